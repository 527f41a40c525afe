#!/usr/bin/env python3
"""Runs Sluice, HAProxy and NGINX side by side in front of the same NGINX backends and compares them.

Every proxy gets one worker thread/process and is pinned to CPU 1; the load generator is pinned to CPU 0, and
the backends to CPU 0 (layout `dedicated`) or to CPU 1 beside the proxy (layout `shared-core`). Targets are
interleaved (A B C A B C ...) and each figure is the median of the rounds.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone

BACKEND_PORTS = [19101, 19102, 19103]
DIRECT_PORT = 19101
# gRPC servers over h2c (lb-bench's GrpcUnaryServer, one process, one event loop), for grpc_unary only.
GRPC_BACKEND_PORTS = [19111, 19112, 19113]
GRPC_PATH = "/echo.Echo/Unary"
# One unary call: a length-prefixed message (not compressed, 7 bytes: protobuf field 1 = "hello").
GRPC_REQUEST = b"\x00\x00\x00\x00\x07\x0a\x05hello"
GRPC_HEADERS = ["-H", "content-type: application/grpc", "-H", "te: trailers"]
# Each proxy serves TCP mode and HTTP mode on two ports of the same process.
PROXY_PORTS = {
    "tcp": {"sluice": 19201, "haproxy": 19202, "nginx": 19203, "sluice_splice": 19204},
    "http": {"sluice": 19211, "haproxy": 19212, "nginx": 19213},
    # TLS termination in front of the same plain-HTTP backends: `sluice` on the OpenSSL provider, `sluice_jdk` (a
    # second Sluice, HTTPS only) on the JDK's engine.
    "https": {"sluice": 19221, "haproxy": 19222, "nginx": 19223, "sluice_jdk": 19225},
    # HTTP/2 in cleartext by prior knowledge: Sluice's HTTP listener takes it on its HTTP/1.1 port (h2c is on by
    # default), HAProxy (`bind ... proto h2`) and NGINX (`listen ... http2`) need a port of their own.
    "h2c": {"sluice": 19211, "haproxy": 19232, "nginx": 19233},
    # gRPC: h2c from h2load, h2c to the gRPC servers (Sluice `protocol: h2c`, HAProxy `proto h2`, NGINX grpc_pass).
    "grpc": {"sluice": 19241, "haproxy": 19242, "nginx": 19243},
}
H2_MODES = ("h2c", "grpc")  # measured with h2load rather than wrk
# (target, scenario) left out of the run, and why: a Sluice whose HTTPS listener could not start (a build without
# listener TLS, say), or a proxy whose session resumption is not what the run asked for. The report says why; the
# other targets and scenarios run as usual.
SKIPPED = {}
TLS_NAME = "bench.example"
# Where each part runs (--layout). `dedicated`: the proxy has a core of its own and the backends share wrk's, so
# a proxy's CPU per request shows beside a rate that wrk and the backends cap. `shared-core`: the proxy and the
# backends share one core, as on a small VM where everything runs together: every µs the proxy saves goes to
# the backends and shows as throughput. wrk (or h2load) stays alone on the other core in both.
LAYOUTS = {
    "dedicated": {"proxy": "1", "backends": "0", "load": "0"},
    "shared-core": {"proxy": "1", "backends": "1", "load": "0"},
}
LAYOUT_LABELS = {
    "dedicated": "proxy pinned to CPU 1, wrk and backends to CPU 0",
    "shared-core": "proxy and backends pinned to CPU 1 (sharing it), wrk to CPU 0",
}
PROXY_CPU = "1"
BACKEND_CPU = "0"
# The backends' processes (NGINX's master, the gRPC server), set once they run: each run also reports what the
# backends spent per request behind the proxy under test (`backend_cpu_us`). Sharing a core with the proxy, that is
# the other half of what bounds the rate, and a proxy can raise it (more wake-ups, more segments per request).
BACKEND_ROOTS = []
LOAD_CPU = "0"
# Sluice's JVM options when --sluice-jvm-opts does not give others. A JVM pinned to one CPU sees one CPU, so
# JDK 17 picks Serial GC for it in either layout unless the options name a collector.
SLUICE_JVM_DEFAULT = "-Xms64m -Xmx512m"
# Extra Sluice processes, one per --sluice-variant, to compare JVM options A/B in the same rounds: target name
# ("sluice:NAME") -> (java executable, options). They serve the plain HTTP and TCP scenarios (h2_small and
# grpc_unary too), on ports of their own from VARIANT_BASE_PORT.
VARIANTS = {}
# Variants given a jar of their own ("--jar=PATH" among their options): target name -> the jar, to compare a
# build before and after a change in the same rounds.
VARIANT_JARS = {}
# Variants given a transport of their own ("--transport=epoll|io_uring|nio" among their options): target -> transport.
VARIANT_TRANSPORTS = {}
# Variants given a pool size of their own ("--pool=N" among their options): target -> the backends cluster's
# pool.max_connections_per_loop (Sluice's default, 64, when not given).
VARIANT_POOLS = {}
# Variants given a TCP relay of their own ("--tcp-relay=auto|channels" among their options): target ->
# runtime.tcp_relay (Sluice's default, auto, when not given).
VARIANT_TCP_RELAYS = {}
# --backend-maxconn: connections each proxy may hold to one HTTP server (0: each proxy's default; Sluice 64 per
# event loop, HAProxy and NGINX unlimited). Set by main() before any config is written.
BACKEND_MAXCONN = 0
VARIANT_BASE_PORT = 19400  # to 19499: the ports compare.sh reserves

SCENARIOS = {
    # name: (mode, description, wrk args, path)
    "http_small": ("http", "HTTP keep-alive, 64 B responses, 64 connections", ["-c", "64"], "/64"),
    "http_large": ("http", "HTTP keep-alive, 1 MiB responses, 8 connections", ["-c", "8"], "/1m"),
    "http_post": ("http", "HTTP keep-alive POST of a 1 KiB body (Content-Length), 64 B responses, 64 connections",
                  ["-c", "64", "-s", os.path.join(os.path.dirname(os.path.abspath(__file__)), "post_1k.lua")], "/post"),
    "http_close": ("http", "HTTP, new connection per request (Connection: close), 64 connections",
                   ["-c", "64", "-H", "Connection: close"], "/64"),
    "tcp_small": ("tcp", "TCP mode, keep-alive, 64 B responses, 64 connections", ["-c", "64"], "/64"),
    "tcp_large": ("tcp", "TCP mode, 1 MiB responses, 8 connections", ["-c", "8"], "/1m"),
    "tcp_connect": ("tcp", "TCP mode, new connection per request (Connection: close), 64 connections",
                    ["-c", "64", "-H", "Connection: close"], "/64"),
    "https_small": ("https", "HTTPS (TLS 1.3, ECDSA P-256) keep-alive, 64 B responses, 64 connections",
                    ["-c", "64"], "/64"),
    "https_handshake": ("https", "HTTPS (TLS 1.3, ECDSA P-256), a new connection and handshake per request "
                        "(Connection: close), 64 connections", ["-c", "64", "-H", "Connection: close"], "/64"),
    # h2load: 16 connections with up to 32 streams each in flight (512 requests at once, as wrk's 64 connections
    # are 64), the backends the same HTTP/1.1 NGINX as above.
    "h2_small": ("h2c", "HTTP/2 cleartext (prior knowledge) with h2load, 64 B responses, 16 connections x 32 "
                 "streams; backends HTTP/1.1", ["-c", "16", "-m", "32"], "/64"),
    "grpc_unary": ("grpc", f"gRPC unary calls with h2load (POST {GRPC_PATH}, a 12 B request, a 64 B response "
                   "and trailers grpc-status 0), 16 connections x 32 streams; backends gRPC over h2c",
                   ["-c", "16", "-m", "32"], GRPC_PATH),
}

# Reload scenarios: the load of another scenario (their base, measured in the same rounds as their plain run)
# while the harness reloads the proxy every RELOAD_EVERY seconds, the way its users do, with a config that
# differs each time (the first backend's weight alternates between 1 and 2). Not in the default run: named in
# --scenarios, they bring their base with them, and the proxies then run reloadable for the whole run (Sluice
# with its admin endpoint, HAProxy in master-worker mode).
RELOAD_SCENARIOS = {
    # name: (base scenario, description)
    "http_reload": ("http_small", "HTTP keep-alive, 64 B responses, 64 connections, the proxy reloaded every second"),
    "tcp_reload": ("tcp_small", "TCP mode, keep-alive, 64 B responses, 64 connections, the proxy reloaded every second"),
}
RELOAD_EVERY = 1.0
ADMIN_PORTS = {"sluice": 19291, "sluice_splice": 19294}  # Sluice's admin endpoint, in reloadable runs only


def port_of(target, scenario):
    """None when the target does not take part in the scenario (sluice_splice is TCP only, direct has nothing
    to reload)."""
    if scenario in RELOAD_SCENARIOS:
        if target == "direct" or target in VARIANTS:
            return None
        scenario = RELOAD_SCENARIOS[scenario][0]
    mode = "tcp" if scenario == "idle" else SCENARIOS[scenario][0]
    if target == "direct":  # the backends speak plain HTTP/1.1 only, the gRPC servers h2c
        return GRPC_BACKEND_PORTS[0] if mode == "grpc" else None if mode in ("https", "h2c") else DIRECT_PORT
    if (target, scenario) in SKIPPED:
        return None
    return PROXY_PORTS[mode].get(target)


def scheme_of(scenario):
    return "https" if SCENARIOS[scenario][0] == "https" else "http"  # h2load's h2c is http:// too


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port} after {timeout}s")


class Lab:
    def __init__(self, root, work):
        self.root = root
        self.work = work
        self.procs = {}
        self.haproxy_master_worker = False

    def start(self, name, cmd, port, cpu):
        log = open(os.path.join(self.work, name + ".log"), "w")
        p = subprocess.Popen(["taskset", "-c", cpu] + cmd, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
        self.procs[name] = p
        wait_port(port)
        return p

    def stop_all(self):
        for p in self.procs.values():
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in self.procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        self.procs.clear()

    def pid_of(self, name):
        """The PID whose memory counts: the JVM for Sluice, the worker for NGINX, HAProxy's process."""
        p = self.procs[name]
        if name == "nginx" or (name == "haproxy" and self.haproxy_master_worker):
            out = sh(["pgrep", "-P", str(p.pid)]).stdout.split()
            return int(out[0]) if out else p.pid
        return p.pid


def write_backend(work):
    www = os.path.join(work, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "64"), "wb") as f:
        f.write(b"x" * 63 + b"\n")
    with open(os.path.join(www, "1m"), "wb") as f:
        f.write(os.urandom(1 << 20))
    servers = "\n".join(f"""
    server {{
        listen 127.0.0.1:{port} reuseport backlog=4096;
        keepalive_requests 1000000;
        location / {{ root {www}; }}
        location = /post {{ default_type text/plain; return 200 "{"x" * 63}\\n"; }}
    }}""" for port in BACKEND_PORTS)
    conf = f"""
worker_processes 1;
daemon off;
pid {work}/backend.pid;
error_log {work}/backend-error.log warn;
worker_rlimit_nofile 19900;
events {{ worker_connections 19500; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    {servers}
}}
"""
    path = os.path.join(work, "backend.conf")
    open(path, "w").write(conf)
    return path


def write_sluice(work, target, transport, admin=False, weight=1, tls=None, grpc=False, pool=None, tcp_relay=None):
    """Config of one Sluice target: `sluice` has a TCP and an HTTP listener on the given transport,
    `sluice_splice` one TCP listener with splice: true (which needs the epoll transport), `sluice_jdk` only an
    HTTPS listener on the JDK's TLS engine. `tls` (a TlsSetup) adds the HTTPS listener to `sluice` (on OpenSSL).
    `admin` serves the admin endpoint (for POST /admin/reload); `weight` is the first server's (1 is the default
    and not written). `grpc` adds the gRPC listener and its h2c cluster to `sluice`. `pool`: the backends
    cluster's pool.max_connections_per_loop (None: not written, Sluice's default). `tcp_relay`: runtime.tcp_relay
    (None: not written, auto)."""
    servers = "\n".join(f'      - {{ address: "127.0.0.1:{p}"{f", weight: {weight}" if i == 0 and weight != 1 else ""} }}'
                        for i, p in enumerate(BACKEND_PORTS))
    splice = target == "sluice_splice"
    listeners = ""
    if target in PROXY_PORTS["tcp"]:
        listeners += (f'  - {{ name: tcp, bind: "127.0.0.1:{PROXY_PORTS["tcp"][target]}", protocol: tcp, '
                      f'cluster: backends, idle_timeout: 10m, splice: {str(splice).lower()} }}\n')
    if target in PROXY_PORTS["http"]:
        listeners += (f'  - {{ name: http, bind: "127.0.0.1:{PROXY_PORTS["http"][target]}", protocol: http, '
                      f'cluster: backends }}\n')
    if tls and target in PROXY_PORTS["https"]:
        provider = "jdk" if target == "sluice_jdk" else "openssl"
        # The JDK engine cannot turn its session cache off (session_cache: false is an error there): with
        # resumption off it still resumes, and the check before measuring leaves it out of https_handshake.
        cache = "" if provider == "jdk" else f'session_cache: {str(tls.resumption).lower()}, '
        listeners += (f'  - {{ name: https, bind: "127.0.0.1:{PROXY_PORTS["https"][target]}", protocol: http, '
                      f'cluster: backends,\n      tls: {{ certificates: [ {{ cert: "{tls.cert}", key: "{tls.key}" }} ], '
                      f'protocols: [TLSv1.3], alpn: [http/1.1], session_tickets: {str(tls.resumption).lower()}, '
                      f'{cache}provider: {provider} }} }}\n')
    grpc_cluster = ""
    if grpc and target in PROXY_PORTS["grpc"]:
        listeners += (f'  - {{ name: grpc, bind: "127.0.0.1:{PROXY_PORTS["grpc"][target]}", protocol: http, '
                      f'cluster: grpc_backends }}\n')
        grpc_cluster = """  - name: grpc_backends
    algorithm: round_robin
    protocol: h2c
    servers:
""" + "\n".join(f'      - {{ address: "127.0.0.1:{p}" }}' for p in GRPC_BACKEND_PORTS) + "\n"
    conf = f"""
runtime: {{ transport: {"epoll" if splice else transport}, worker_threads: 1{f", tcp_relay: {tcp_relay}" if tcp_relay else ""} }}
{f'admin: {{ bind: "127.0.0.1:{ADMIN_PORTS[target]}" }}' if admin else "admin: { enabled: false }"}
listeners:
{listeners}clusters:
  - name: backends
    algorithm: round_robin
{f"    pool: {{ max_connections_per_loop: {pool} }}" + chr(10) if pool else ""}    servers:
{servers}
{grpc_cluster}"""
    return write_atomically(os.path.join(work, file_stem(target) + ".yaml"), conf)


def file_stem(target):
    """A target's name in file names (-Xlog reads a colon as the end of a file name)."""
    return target.replace("_", "-").replace(":", "-")


def write_atomically(path, text):
    """A reload may read the file at any moment: it must see the old text or the new one, never half of it."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


# Buffer settings that give the peers what Sluice has: reads of up to 256 KiB (BatchedReads.MAX_READ_BUFFER),
# and a response held in memory per connection instead of on disk. Stock HAProxy reads 16 KiB at a time, stock
# NGINX 4 KiB (HTTP) and 16 KiB (stream), which costs them CPU per MiB that tuning removes. "64k" is what
# Sluice read before its reads grew to 256 KiB, kept to compare with earlier runs.
PEER_BUFFERS = {
    # NGINX's HTTP proxy keeps 64 KiB buffers: with 256 KiB ones (proxy_buffers 4 256k) it moved 1 MiB
    # responses at about half the rate, with 2.8x the CPU per MiB (run of 2026-11-30 16:17).
    "256k": {"haproxy_global": "    tune.bufsize 262144\n",
             "nginx_stream": "        proxy_buffer_size 256k;\n",
             "nginx_http": "            proxy_buffer_size 64k;\n            proxy_buffers 4 64k;\n"
                           "            proxy_busy_buffers_size 128k;\n            proxy_max_temp_file_size 0;\n"},
    "64k": {"haproxy_global": "    tune.bufsize 65536\n",
            "nginx_stream": "        proxy_buffer_size 64k;\n",
            "nginx_http": "            proxy_buffer_size 64k;\n            proxy_buffers 4 64k;\n"
                          "            proxy_busy_buffers_size 128k;\n            proxy_max_temp_file_size 0;\n"},
    "default": {"haproxy_global": "", "nginx_stream": "", "nginx_http": ""},
}
PEER_BUFFER_LABELS = {
    "256k": "256 KiB (HAProxy tune.bufsize, NGINX stream proxy_buffer_size; NGINX HTTP 64 KiB proxy_buffers)",
    "64k": "64 KiB (HAProxy tune.bufsize, NGINX proxy_buffer_size/proxy_buffers)",
    "default": "stock",
}


# --haproxy-splice: HAProxy splices (option splice-request and splice-response; maxpipes bounded, since its default,
# maxconn/4, takes HAProxy's descriptor count past the harness's limit).
HAPROXY_SPLICE = False


def write_haproxy(work, buffers, weight=1, tls=None, grpc=False):
    servers = "\n".join(f"    server b{i} 127.0.0.1:{p}{f' weight {weight}' if i == 0 and weight != 1 else ''}"
                        for i, p in enumerate(BACKEND_PORTS))
    # A server's maxconn: requests beyond it wait in HAProxy's queue (timeout queue: timeout connect), as they
    # wait in Sluice's pool line.
    http_servers = "\n".join(line + (f" maxconn {BACKEND_MAXCONN}" if BACKEND_MAXCONN else "")
                             for line in servers.split("\n"))
    conf = f"""
global
    nbthread 1
    maxconn 9500
{"    maxpipes 256" + chr(10) if HAPROXY_SPLICE else ""}{"    tune.ssl.cachesize 0" + chr(10) if tls and not tls.resumption else ""}{PEER_BUFFERS[buffers]["haproxy_global"]}defaults
    timeout connect 5s
    timeout client 10m
    timeout server 10m
{"    option splice-request" + chr(10) + "    option splice-response" + chr(10) if HAPROXY_SPLICE else ""}frontend tcp
    mode tcp
    bind 127.0.0.1:{PROXY_PORTS['tcp']['haproxy']}
    default_backend tcp_backends
backend tcp_backends
    mode tcp
    balance roundrobin
{servers}
frontend http
    mode http
    option forwardfor
    bind 127.0.0.1:{PROXY_PORTS['http']['haproxy']}
    default_backend http_backends
frontend h2c
    mode http
    option forwardfor
    bind 127.0.0.1:{PROXY_PORTS['h2c']['haproxy']} proto h2
    default_backend http_backends
{haproxy_https(tls)}{haproxy_grpc() if grpc else ""}backend http_backends
    mode http
    balance roundrobin
    http-reuse always
{http_servers}
"""
    return write_atomically(os.path.join(work, "haproxy.cfg"), conf)


def haproxy_grpc():
    servers = "\n".join(f"    server g{i} 127.0.0.1:{p} proto h2" for i, p in enumerate(GRPC_BACKEND_PORTS))
    return f"""frontend grpc
    mode http
    option forwardfor
    bind 127.0.0.1:{PROXY_PORTS['grpc']['haproxy']} proto h2
    default_backend grpc_backends
backend grpc_backends
    mode http
    balance roundrobin
    http-reuse always
{servers}
"""


def haproxy_https(tls):
    if not tls:
        return ""
    return f"""frontend https
    mode http
    option forwardfor
    bind 127.0.0.1:{PROXY_PORTS['https']['haproxy']} ssl crt {tls.combined} ssl-min-ver TLSv1.3 alpn http/1.1{"" if tls.resumption else " no-tls-tickets"}
    default_backend http_backends
"""


def write_nginx(work, buffers, weight=1, tls=None, grpc=False):
    servers = "\n".join(f"        server 127.0.0.1:{p}{f' weight={weight}' if i == 0 and weight != 1 else ''};"
                        for i, p in enumerate(BACKEND_PORTS))
    location = f"""        location / {{
            proxy_pass http://http_backends;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering on;
{PEER_BUFFERS[buffers]["nginx_http"]}        }}
"""
    conf = f"""
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 1;
daemon off;
pid {work}/nginx-proxy.pid;
error_log {work}/nginx-proxy-error.log warn;
worker_rlimit_nofile 19900;
events {{ worker_connections 19500; }}
stream {{
    upstream backends {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{PROXY_PORTS['tcp']['nginx']};
        proxy_pass backends;
        proxy_timeout 10m;
{PEER_BUFFERS[buffers]["nginx_stream"]}    }}
}}
http {{
    access_log off;
    keepalive_requests 1000000;
    upstream http_backends {{
{servers}
        keepalive 64;
        keepalive_requests 1000000;
    }}
    server {{
        listen 127.0.0.1:{PROXY_PORTS['http']['nginx']};
{location}    }}
    server {{
        listen 127.0.0.1:{PROXY_PORTS['h2c']['nginx']} http2;
{location}    }}
{nginx_https(tls, location)}{nginx_grpc() if grpc else ""}}}
"""
    return write_atomically(os.path.join(work, "nginx-proxy.conf"), conf)


def nginx_grpc():
    """NGINX open source speaks HTTP/2 to servers only through its gRPC proxy."""
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in GRPC_BACKEND_PORTS)
    return f"""    upstream grpc_backends {{
{servers}
        keepalive 64;
        keepalive_requests 1000000;
    }}
    server {{
        listen 127.0.0.1:{PROXY_PORTS['grpc']['nginx']} http2;
        location / {{
            grpc_pass grpc://grpc_backends;
            grpc_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
"""


def nginx_https(tls, location):
    if not tls:
        return ""
    return f"""    server {{
        listen 127.0.0.1:{PROXY_PORTS['https']['nginx']} ssl;
        ssl_certificate {tls.cert};
        ssl_certificate_key {tls.key};
        ssl_protocols TLSv1.3;
        ssl_session_tickets {"on" if tls.resumption else "off"};
        ssl_session_cache {"shared:TLS:10m" if tls.resumption else "off"};
{location}    }}
"""


class TlsSetup:
    """What every proxy's HTTPS listener shares: one ECDSA P-256 certificate made with openssl in the work directory
    (the PEM certificate, its PKCS#8 key, and both in one file for HAProxy's `crt`), and whether TLS sessions may be
    resumed. wrk resumes the session of a connection it reconnects, so with resumption on `https_handshake` measures
    abbreviated handshakes (no certificate signature), and with it off, full ones."""

    def __init__(self, work, resumption):
        self.resumption = resumption
        self.cert = os.path.join(work, "tls-cert.pem")
        self.key = os.path.join(work, "tls-key.pem")
        self.combined = os.path.join(work, "tls-combined.pem")
        sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", self.key, "-out", self.cert, "-days", "90", "-subj", f"/CN={TLS_NAME}",
            "-addext", f"subjectAltName=DNS:{TLS_NAME}"])
        with open(self.combined, "w") as f:
            f.write(open(self.cert).read() + open(self.key).read())


def sluice_refuses(root, config):
    """Why `sluice check` refuses a config, or None when it accepts it."""
    r = subprocess.run(["java", "-jar", os.path.join(root, "lb-core/target/sluice.jar"), "check", config],
                       text=True, capture_output=True)
    return None if r.returncode == 0 else " ".join((r.stdout + r.stderr).split())


def https_client():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def https_get(ctx, port, session=None):
    """A GET /64 over TLS 1.3 to the port: (status line, the TLS session, whether it was resumed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            ctx.wrap_socket(raw, server_hostname=TLS_NAME, session=session) as s:
        s.sendall(f"GET /64 HTTP/1.1\r\nHost: {TLS_NAME}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := s.recv(4096):  # to the end: TLS 1.3 session tickets come after the handshake
            answer += chunk
        return answer.decode("latin-1").split("\r\n", 1)[0], s.session, s.session_reused


def https_problem(port, resumption):
    """Why the port does not serve the HTTPS scenarios as the run means them, or None when it does: a GET over
    TLS 1.3 must get a 200, and a second connection offering the first one's session must be resumed exactly when
    `resumption` is on."""
    try:
        ctx = https_client()  # a session is offered only on the context that made it
        status, session, _ = https_get(ctx, port)
        if not status.startswith("HTTP/1.1 200"):
            return "https_small", f"port {port} answered {status!r}"
        resumed = https_get(ctx, port, session)[2]
    except (OSError, ssl.SSLError) as e:
        return "https_small", f"no TLS 1.3 on port {port}: {e}"
    if resumed != resumption:
        return "https_handshake", (f"port {port} {'resumed' if resumed else 'did not resume'} a TLS session with "
                                   f"resumption {'on' if resumption else 'off'}")
    return None


def skip(target, scenarios, why):
    for sc in scenarios:
        SKIPPED[(target, sc)] = why
    print(f"{target}: {', '.join(scenarios)} left out: {why}", file=sys.stderr, flush=True)


def check_https(target, port, resumption):
    problem = https_problem(port, resumption)
    if problem:
        scope, why = problem
        skip(target, ["https_small", "https_handshake"] if scope == "https_small" else ["https_handshake"], why)


def sluice_jvm(target, jvm_opts):
    """(java executable, options) of a Sluice target: a variant's own, or the default java with `jvm_opts`."""
    return VARIANTS.get(target) or (shutil.which("java"), jvm_opts.split())


def safepoint_log(work, target):
    return os.path.join(work, file_stem(target) + "-safepoint.log")


def start_proxies(lab, work, root, targets, sluice_transport, peer_buffers, reloadable=False, tls=None, grpc=False,
                  jvm_opts=SLUICE_JVM_DEFAULT):
    """`reloadable`: Sluice with its admin endpoint, HAProxy in master-worker mode with a master CLI (NGINX
    always runs with its master process). `tls` (a TlsSetup): the HTTPS listeners too. `grpc`: the gRPC
    listeners and their h2c clusters too. `jvm_opts`: the JVM options of the sluice targets that are not
    variants."""
    for target in ("sluice", "sluice_splice", "sluice_jdk", *VARIANTS):
        if target not in targets or (target == "sluice_jdk" and not tls):
            continue
        admin = reloadable and target in ADMIN_PORTS
        transport = VARIANT_TRANSPORTS.get(target, sluice_transport)
        pool = VARIANT_POOLS.get(target, BACKEND_MAXCONN or None)
        config = write_sluice(work, target, transport, admin=admin, tls=tls, grpc=grpc, pool=pool,
                              tcp_relay=VARIANT_TCP_RELAYS.get(target))
        https = tls is not None and target in PROXY_PORTS["https"]
        why = sluice_refuses(root, config) if https else None
        if why:
            skip(target, ["https_small", "https_handshake"], "sluice TLS not available: " + why)
            if target == "sluice_jdk":
                continue
            config = write_sluice(work, target, transport, admin=admin, grpc=grpc, pool=pool,
                                  tcp_relay=VARIANT_TCP_RELAYS.get(target))  # without HTTPS
            https = False
        # No pre-touched heap by default: the idle-connection scenario reads resident memory, which must include
        # the heap's growth (with -XX:+AlwaysPreTouch among the JVM options it reads everything else).
        ports = [PROXY_PORTS[mode][target] for mode in ("tcp", "http", "https", "grpc")
                 if target in PROXY_PORTS[mode] and (mode != "https" or https) and (mode != "grpc" or grpc)]
        # Every safepoint (GC pauses among them) logged, for the pause figures of each run (Watch).
        java, opts = sluice_jvm(target, jvm_opts)
        # SLUICE_JVM_ARGS: extra JVM options for every Sluice target (a profiler agent, say).
        opts = opts + os.environ.get("SLUICE_JVM_ARGS", "").split()
        log = safepoint_log(work, target)
        if os.path.exists(log):
            os.remove(log)
        jar = VARIANT_JARS.get(target) or os.path.join(root, "lb-core/target/sluice.jar")
        lab.start(target, [java] + opts + [f"-Xlog:safepoint:file={log}::filecount=0", "-jar", jar, "run", config],
                  ports[0], PROXY_CPU)
        for port in ports[1:] + ([ADMIN_PORTS[target]] if admin else []):
            wait_port(port)
        if https:
            check_https(target, PROXY_PORTS["https"][target], tls.resumption)
    if "haproxy" in targets:
        mw = ["-W", "-S", haproxy_master_socket(work)] if reloadable else []
        lab.haproxy_master_worker = reloadable
        lab.start("haproxy", ["haproxy", "-db"] + mw + ["-f", write_haproxy(work, peer_buffers, tls=tls, grpc=grpc)],
                  PROXY_PORTS["tcp"]["haproxy"], PROXY_CPU)
        wait_port(PROXY_PORTS["http"]["haproxy"])
    if "nginx" in targets:
        lab.start("nginx", ["nginx", "-c", write_nginx(work, peer_buffers, tls=tls, grpc=grpc), "-p", work],
                  PROXY_PORTS["tcp"]["nginx"], PROXY_CPU)
        wait_port(PROXY_PORTS["http"]["nginx"])
    for target in ("haproxy", "nginx"):
        if tls and target in targets:
            check_https(target, PROXY_PORTS["https"][target], tls.resumption)


def check_h2(targets, scenarios, work):
    """Leaves out of an h2load scenario a target that does not answer it as meant: one request with curl over h2c
    (prior knowledge) must get HTTP/2 200, and a gRPC call also grpc-status 0 (in its trailers or, trailers-only,
    in its head)."""
    for sc in scenarios:
        if sc not in SCENARIOS or SCENARIOS[sc][0] not in H2_MODES:
            continue
        for t in targets:
            port = port_of(t, sc)
            if port:
                why = h2_problem(port, sc, work)
                if why:
                    skip(t, [sc], why)


def h2_problem(port, sc, work):
    mode, _, _, path = SCENARIOS[sc]
    cmd = ["curl", "-sS", "-v", "--http2-prior-knowledge", "-o", "/dev/null", "--max-time", "10"]
    if mode == "grpc":
        cmd += GRPC_HEADERS + ["--data-binary", "@" + grpc_request_file(work)]
    r = subprocess.run(cmd + [f"http://127.0.0.1:{port}{path}"], text=True, capture_output=True)
    lines = [l.strip() for l in r.stderr.splitlines()]
    status = next((l[2:] for l in lines if l.startswith("< HTTP/")), None)
    if status is None or not status.startswith("HTTP/2 200"):
        return f"curl --http2-prior-knowledge to port {port} got {status or ' '.join(lines[-2:])!r}"
    if mode == "grpc" and "< grpc-status: 0" not in lines:
        return f"port {port} answered the gRPC call without grpc-status 0"
    return None


def grpc_request_file(work):
    path = os.path.join(work, "grpc-request.bin")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(GRPC_REQUEST)
    return path


def haproxy_master_socket(work):
    return os.path.join(work, "haproxy-master.sock")


class Reloads:
    """Reloads one proxy every RELOAD_EVERY seconds while wrk runs, the way its users do, each time with a config
    that differs from the one in force (the first backend's weight alternates between 1 and 2), and counts the
    reloads that took effect:

    - Sluice: POST /admin/reload to its admin endpoint (what `sluice reload` does; SIGHUP does the same without
      an answer). Counted by sluice_config_reloads_total{result="applied"} from its /metrics; every answer must
      say "applied" with the weight among its changes.
    - HAProxy, in master-worker mode (-W): SIGUSR2 to the master, the reload its management guide gives for that
      mode (and what Debian's systemd unit does): the master re-executes itself with -sf and the old workers'
      pids, parses the file, forks a new worker and tells the old ones to finish. Counted by the master's reload
      counter (`show proc` on the master CLI, -S), failed reloads apart.
    - NGINX: `nginx -s reload` with the harness's -c and -p (it signals the master named in the pid file).
      Counted as new worker processes of the master.

    For HAProxy and NGINX it also records the most worker processes alive at once: old workers stay while their
    connections last."""

    def __init__(self, lab, target, work, write):
        self.lab = lab
        self.target = target
        self.work = work
        self.write = write  # write(weight): writes the target's config file
        self.weight = 1

    @property
    def root(self):
        return self.lab.procs[self.target].pid

    def start(self, seconds):
        self.triggered = 0
        self.answered = 0  # Sluice: answers "applied" with a change; others: a new worker seen within the second
        self.problems = []
        self.seen = set(children(self.root))
        self.most_workers = len(self.seen)
        self.before = self.counter()
        self.thread = threading.Thread(target=self._loop, args=(seconds,), daemon=True)
        self.thread.start()

    def join(self):
        self.thread.join()
        self.after = self.counter()

    def _loop(self, seconds):
        # Only this thread, on the load generator's CPU: the triggers must not take the proxy's CPU.
        os.sched_setaffinity(threading.get_native_id(), {int(LOAD_CPU)})
        t0 = time.monotonic()
        k = 1
        while k * RELOAD_EVERY < seconds - 0.5:  # the last reload at least half a second before wrk stops
            time.sleep(max(0.0, t0 + k * RELOAD_EVERY - time.monotonic()))
            self.weight = 3 - self.weight
            self.triggered += 1
            try:
                self.reload(self.weight)
            except Exception as e:  # reported, the run goes on
                self.problems.append(f"{type(e).__name__}: {e}")
            k += 1

    def reload(self, weight):
        self.write(weight)
        if self.target.startswith("sluice"):
            req = urllib.request.Request(f"http://127.0.0.1:{ADMIN_PORTS[self.target]}/admin/reload", data=b"",
                                         method="POST")
            with urllib.request.urlopen(req, timeout=30) as res:
                answer = json.loads(res.read())
            if answer.get("result") == "applied" and any("weight" in c for c in answer.get("changes", [])):
                self.answered += 1
            else:
                self.problems.append(f"answer {answer}")
            return
        if self.target == "haproxy":
            os.kill(self.root, signal.SIGUSR2)
        else:
            sh(["taskset", "-c", LOAD_CPU, "nginx", "-c", os.path.join(self.work, "nginx-proxy.conf"), "-p",
                self.work, "-s", "reload"])
        if self._new_worker(0.9):
            self.answered += 1

    def _new_worker(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            kids = set(children(self.root))
            self.most_workers = max(self.most_workers, len(kids))
            if kids - self.seen:
                self.seen |= kids
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)

    def counter(self):
        """The proxy's own count of reloads done: (applied, failed)."""
        if self.target.startswith("sluice"):
            with urllib.request.urlopen(f"http://127.0.0.1:{ADMIN_PORTS[self.target]}/metrics", timeout=10) as res:
                text = res.read().decode()
            ok = re.search(r'^sluice_config_reloads_total\{result="applied"\} ([\d.]+)', text, re.MULTILINE)
            bad = re.search(r'^sluice_config_reloads_total\{result="rejected"\} ([\d.]+)', text, re.MULTILINE)
            return int(float(ok.group(1))), int(float(bad.group(1)))
        if self.target == "haproxy":
            m = re.search(r"^\d+\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]", self._master_cli("show proc"),
                          re.MULTILINE)
            return int(m.group(1)), int(m.group(2))
        return len(self.seen), 0  # NGINX keeps no count: new workers seen

    def _master_cli(self, command):
        for attempt in range(20):  # the master CLI is away for a moment while the master re-executes itself
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.settimeout(5)
                    s.connect(haproxy_master_socket(self.work))
                    s.sendall(command.encode() + b"\n")
                    s.shutdown(socket.SHUT_WR)  # the end of the input ends the session: the master answers and closes
                    out = b""
                    while chunk := s.recv(65536):
                        out += chunk
                    return out.decode()
            except OSError:
                if attempt == 19:
                    raise
                time.sleep(0.1)

    def summary(self):
        return {"reloads_asked": self.triggered, "reloads_done": self.after[0] - self.before[0],
                "reloads_failed": self.after[1] - self.before[1], "reloads_answered": self.answered,
                "most_workers": None if self.target.startswith("sluice") else self.most_workers,
                "reload_problems": self.problems}

    def settle(self, timeout=20):
        """After a run: back to the config the other scenarios use (one more reload, not counted, when the run
        ended on the other weight), then wait until the old workers have left, so that they take no CPU from
        the next run."""
        if self.weight != 1:
            self.weight = 1
            self.seen = set(children(self.root))
            self.reload(1)
        if self.target.startswith("sluice"):
            return
        deadline = time.monotonic() + timeout
        while len(children(self.root)) > 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        if len(children(self.root)) > 1:
            print(f"{self.target}: {len(children(self.root)) - 1} old worker(s) still there {timeout}s after the "
                  f"run", file=sys.stderr, flush=True)


UNITS = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)", text)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v if u == "ms" else v * 1000 if u == "s" else v * 60000


def cpu_split(pid):
    """User and system CPU time of a process (all its threads) so far, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tck, int(fields[12]) / tck


def cpu_seconds(pid):
    """User + system CPU time of a process (all its threads) so far."""
    return sum(cpu_split(pid))


def add_cpu_split(r, before, pid):
    """The run's CPU per request split into user space and kernel: on small requests most of a proxy's CPU is the
    kernel's (loopback TCP, the event interface), which no proxy can save by its own code."""
    if before is None or not r.get("requests"):
        return
    after = cpu_split(pid)
    r["user_us"] = (after[0] - before[0]) * 1e6 / r["requests"]
    r["sys_us"] = (after[1] - before[1]) * 1e6 / r["requests"]


def backends_cpu_seconds():
    return sum(tree_cpu_seconds(p) for p in BACKEND_ROOTS)


def add_backend_cpu(r, before):
    """The backends' CPU per request of this run, from `backends_cpu_seconds()` read before it."""
    if before is not None and r.get("requests"):
        r["backend_cpu_us"] = (backends_cpu_seconds() - before) * 1e6 / r["requests"]


def tree_cpu_seconds(pid):
    """User + system CPU time of a process and of all its descendants, the live ones and those it has reaped:
    what a master/worker proxy spent, old workers that came and went during a reload included."""
    total = 0.0
    for p in [pid] + descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue  # gone between the listing and the read
        total += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return total / os.sysconf("SC_CLK_TCK")


def children(pid):
    kids = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(x) for x in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return kids


def descendants(pid):
    out = []
    for k in children(pid):
        out += [k] + descendants(k)
    return out


def run_load(port, sc, seconds, pid, work):
    """One run of a scenario's load generator (h2load for the HTTP/2 ones, wrk for the others)."""
    mode, _, args, path = SCENARIOS[sc]
    if mode in H2_MODES:
        extra = GRPC_HEADERS + ["-d", grpc_request_file(work)] if mode == "grpc" else []
        return run_h2load(port, args + extra, path, seconds, pid)
    return run_wrk(port, args, path, seconds, pid, scheme=scheme_of(sc))


def run_h2load(port, args, path, seconds, pid=None):
    """One h2load run over h2c (prior knowledge), with the proxy's CPU time per request as in run_wrk. h2load gives
    no latency percentiles: p50/p99 stay empty and `mean` is its mean time per request. Every request must succeed:
    the result counts the ones that did not (non-2xx, failed, errored, timed out)."""
    cmd = ["taskset", "-c", LOAD_CPU, "h2load", "-t1", "-D", str(seconds)] + args + [f"http://127.0.0.1:{port}{path}"]
    split_before = cpu_split(pid) if pid else None
    cpu_before = sum(split_before) if pid else None
    backends_before = backends_cpu_seconds() if pid and BACKEND_ROOTS else None
    proc = subprocess.run(cmd, text=True, capture_output=True)
    cpu = cpu_seconds(pid) - cpu_before if pid else None
    try:
        r = parse_h2load(proc.stdout)
    except (AttributeError, ValueError):
        print(f"could not read h2load's output (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}", file=sys.stderr,
              flush=True)
        nan = float("nan")
        return {"rps": nan, "mbps": nan, "p50": nan, "p99": nan, "mean": nan, "cpu_us": nan, "errors": "unreadable"}
    r["cpu_us"] = cpu * 1e6 / r["requests"] if cpu is not None and r["requests"] else float("nan")
    add_cpu_split(r, split_before, pid)
    add_backend_cpu(r, backends_before)
    return r


def parse_h2load(out):
    m = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s, ([\d.]+)(\w+)/s", out)
    rps, mbps = float(m.group(1)), float(m.group(2)) * UNITS[m.group(3)] / (1 << 20)
    req = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                    r"(\d+) errored, (\d+) timeout", out)
    done, succeeded, failed, errored, timeout = (int(req.group(i)) for i in (3, 4, 5, 6, 7))
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    non2xx = sum(int(codes.group(i)) for i in (2, 3, 4))
    mean = re.search(r"time for request:\s+\S+\s+\S+\s+(\S+)", out).group(1)
    problems = {"non-2xx": non2xx, "failed": failed, "errored": errored, "timeout": timeout}
    return {"rps": rps, "requests": succeeded, "mbps": mbps, "p50": float("nan"), "p99": float("nan"),
            "mean": to_ms(mean), "done": done, "succeeded": succeeded, "non2xx": non2xx, "failed": failed,
            "errored": errored, "timeout": timeout,
            "errors": ", ".join(f"{v} {k}" for k, v in problems.items() if v)}


def run_wrk(port, args, path, seconds, pid=None, reloads=None, scheme="http"):
    """One wrk run; with the proxy's pid, also the CPU time it spent per request (the load generator shares a
    core with the backends and is often the limit, so CPU per request is what tells the proxies apart).
    With `reloads` (a Reloads), the proxy is reloaded every second during the run, `pid` is the root of its
    process tree and the CPU time is the whole tree's; the result also counts wrk's errors and the reloads."""
    cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", "-d", f"{seconds}s", "--latency", "--timeout", "10s"] + args + [
        f"{scheme}://127.0.0.1:{port}{path}"]
    cpu_of = tree_cpu_seconds if reloads else cpu_seconds
    split_before = cpu_split(pid) if pid and not reloads else None
    cpu_before = cpu_of(pid) if pid else None
    backends_before = backends_cpu_seconds() if pid and BACKEND_ROOTS else None
    if reloads:
        reloads.start(seconds)
    try:
        out = sh(cmd).stdout
    finally:
        if reloads:
            reloads.join()
    cpu = cpu_of(pid) - cpu_before if pid else None
    nan = float("nan")
    try:
        r = parse_wrk(out)
    except (AttributeError, ValueError):
        print("could not read wrk's output:\n" + out, file=sys.stderr, flush=True)
        r = {"rps": nan, "mbps": nan, "p50": nan, "p99": nan, "cpu_us": nan, "errors": "unreadable"}
        if reloads:
            r.update(reloads.summary())
        return r
    r["cpu_us"] = cpu * 1e6 / r["requests"] if cpu is not None and r["requests"] else nan
    add_cpu_split(r, split_before, pid)
    add_backend_cpu(r, backends_before)
    if reloads:
        r.update(wrk_errors(out))
        r.update(reloads.summary())
    return r


def wrk_errors(out):
    """wrk's error counts: socket errors by kind, and responses with a status other than 2xx or 3xx. A keep-alive
    connection that the proxy closes while wrk's next request is on it counts as a read (or write) error: that
    request is lost, wrk does not retry it."""
    e = {"connect": 0, "read": 0, "write": 0, "timeout": 0, "non2xx": 0}
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        e.update(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        e["non2xx"] = int(m.group(1))
    return e


def parse_wrk(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    tr = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    mbps = float(tr.group(1)) * UNITS[tr.group(2)] / (1 << 20)
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1))
    p75, p90, p99 = (to_ms(re.search(rf"^\s+{q}%\s+(\S+)", out, re.MULTILINE).group(1)) for q in (75, 90, 99))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    # p75 and p90 are kept in results.json only: they show where a tail starts to widen.
    return {"rps": rps, "requests": requests, "mbps": mbps, "p50": p50, "p75": p75, "p90": p90, "p99": p99,
            "errors": errors.group(0) if errors else ""}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Watch:
    """What a proxy's memory and a Sluice JVM's pauses do during one run: its resident memory sampled every
    RSS_EVERY seconds (peak and mean; a collector's heap sizing shows here), and the safepoints its JVM logged
    in the run (count, total and longest; every stop-the-world GC pause is one)."""
    RSS_EVERY = 0.2
    TOTAL = re.compile(r"Total: (\d+) ns")

    def __init__(self, pid, safepoints=None):
        self.pid = pid
        self.safepoints = safepoints if safepoints and os.path.exists(safepoints) else None
        self.threads = thread_cpu(pid) if self.safepoints else None
        self.offset = os.path.getsize(self.safepoints) if self.safepoints else 0
        self.samples = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        os.sched_setaffinity(threading.get_native_id(), {int(LOAD_CPU)})  # not on the proxy's CPU
        while not self.done.wait(self.RSS_EVERY):
            try:
                self.samples.append(rss_kib(self.pid) / 1024)
            except (FileNotFoundError, ProcessLookupError):
                return

    def stop(self):
        self.done.set()
        self.thread.join()
        nan = float("nan")
        r = {"rss_peak_mib": max(self.samples, default=nan),
             "rss_mean_mib": statistics.fmean(self.samples) if self.samples else nan}
        if self.safepoints:
            with open(self.safepoints) as f:
                f.seek(self.offset)
                pauses = [int(m.group(1)) / 1e6 for m in map(self.TOTAL.search, f.read().splitlines()) if m]
            r.update({"safepoints": len(pauses), "pause_total_ms": sum(pauses),
                      "pause_max_ms": max(pauses, default=0.0)})
        if self.threads is not None:
            after = thread_cpu(self.pid)
            r["thread_cpu_s"] = {k: after.get(k, 0.0) - self.threads.get(k, 0.0) for k in after}
        return r


# JVM threads by what they do: the collector's (Serial collects in the VM thread, which also runs the other
# safepoint operations), the JIT compilers', and the event loops'.
THREAD_KINDS = (("gc", ("GC Thread", "G1 ", "VM Thread", "Z")), ("jit", ("C1 ", "C2 ")),
                ("loop", ("sluice-worker",)))


def thread_cpu(pid):
    """A JVM's CPU seconds so far by thread kind (THREAD_KINDS, the rest "other"): threads that ended are
    missing, which the event loops and the collector's never do."""
    out = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as f:
                text = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        kind = next((k for k, prefixes in THREAD_KINDS if name.startswith(prefixes)), "other")
        out[kind] = out.get(kind, 0.0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def idle_memory(lab, target, count):
    """Opens `count` idle connections through the proxy and returns its resident memory per connection."""
    pid = lab.pid_of(target)
    before = rss_kib(pid)
    socks = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", port_of(target, "idle")), timeout=5)
            socks.append(s)
        time.sleep(3)  # let the proxy finish connecting to the backends
        after = rss_kib(pid)
    finally:
        for s in socks:
            s.close()
    time.sleep(2)
    return {"kib_per_conn": (after - before) / count, "rss_before_mib": before / 1024, "rss_after_mib": after / 1024}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    # Many short rounds rather than few long ones: this machine drifts between a fast and a slow state for
    # tens of seconds at a time, slowing every process alike (docs/bench/measurements-2026-11-30.md), and
    # more rounds give each target's median more chances to sample both.
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--duration", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=10)
    # A JVM that goes from one scenario to the next recompiles the code they share (a call site that saw one
    # handler type sees a second: deoptimized, compiled again). With one pass the first measured round of each
    # scenario paid for that: Sluice's compiler threads took 6-12% of its CPU there (0-3% in later rounds),
    # on the proxy's own core. The second pass, after every path has run once, is where those recompilations
    # happen instead, as they happen once in a long-running proxy that serves a mix of traffic.
    ap.add_argument("--warmup-passes", type=int, default=2)
    ap.add_argument("--order", choices=["rotate", "fixed"], default="rotate",
                    help="rotate: each round starts one target further on (a target's place in the round moves "
                         "its figures); fixed: every round in the --targets order, as before 2026-12-06")
    # Each idle client connection costs a proxy two descriptors (client + backend); machines here cap open
    # files at 20000, so 9000 is the most that fits with room for the rest.
    ap.add_argument("--idle", type=int, default=9000)
    ap.add_argument("--targets", default="direct,sluice,sluice_splice,sluice_jdk,haproxy,nginx",
                    help="sluice_splice takes part in the TCP scenarios only, sluice_jdk in the HTTPS ones only")
    ap.add_argument("--sluice-transport", default="io_uring", choices=["epoll", "io_uring", "nio"])
    ap.add_argument("--scenarios", default=",".join(list(SCENARIOS) + ["idle"]),
                    help="comma-separated; also " + ", ".join(RELOAD_SCENARIOS) + " (not in the default run)")
    ap.add_argument("--peer-buffers", default="256k", choices=list(PEER_BUFFERS),
                    help="256k: HAProxy and NGINX read as much at a time as Sluice does; 64k: as Sluice did "
                         "before; default: their stock buffers")
    ap.add_argument("--haproxy-splice", action="store_true",
                    help="HAProxy with 'option splice-request' and 'option splice-response' (kernel splicing in TCP "
                         "and HTTP mode, as Sluice splices on io_uring; splice-auto's heuristics did not splice in "
                         "these scenarios); off by default, as HAProxy ships")
    ap.add_argument("--tls-resumption", default="off", choices=["off", "on"],
                    help="off: every proxy refuses to resume TLS sessions, so https_handshake is a full handshake per "
                         "request; on: every proxy resumes them (wrk offers its session when it reconnects)")
    ap.add_argument("--layout", default="dedicated", choices=list(LAYOUTS),
                    help="dedicated: the proxy on CPU 1, wrk and the backends on CPU 0; shared-core: the proxy and "
                         "the backends on CPU 1, wrk on CPU 0")
    ap.add_argument("--sluice-jvm-opts", default=SLUICE_JVM_DEFAULT,
                    help="JVM options of the sluice, sluice_splice and sluice_jdk targets (default: %(default)s)")
    ap.add_argument("--sluice-variant", action="append", default=[], metavar="NAME=OPTIONS",
                    help="one more Sluice, target sluice:NAME, run with these JVM options (no default heap "
                         "options; a first word that is a path names the java to run, --jar=PATH another build of Sluice, "
                         "--transport=epoll|io_uring|nio another runtime.transport, --pool=N another pool.max_connections_per_loop, --tcp-relay=channels another runtime.tcp_relay), measured in the same rounds "
                         "in the plain HTTP and TCP scenarios, h2_small and grpc_unary; repeatable")
    ap.add_argument("--profile", action="store_true",
                    help="after the rounds, one more run of each scenario per Sluice target with async-profiler "
                         "attached (CPU samples; kernel frames where perf_event_paranoid and kptr_restrict allow): "
                         "profile-SCENARIO-TARGET.collapsed and a flame graph of the event loop, profile-SCENARIO-TARGET.svg; not part of the figures")
    ap.add_argument("--profiler-lib", default=os.environ.get("ASYNC_PROFILER_LIB"),
                    help="async-profiler's libasyncProfiler.so for --profile (default: $ASYNC_PROFILER_LIB)")
    ap.add_argument("--backend-maxconn", type=int, default=0, metavar="N",
                    help="connections Sluice and HAProxy may hold to one HTTP server, the rest of the requests "
                         "waiting in their queues (Sluice pool.max_connections_per_loop with its one event loop, "
                         "HAProxy server maxconn); NGINX stays unlimited (open source NGINX has no queue: a "
                         "request over max_conns fails). 0 (the default): each proxy's default, Sluice 64, "
                         "HAProxy unlimited")
    ap.add_argument("--private-netns", action="store_true", help="set by compare.sh when it made one")
    ap.add_argument("--route-congestion-control", help="set by compare.sh when the loopback routes carry the "
                                                       "congestion control (congctl) instead of the sysctl")
    a = ap.parse_args()
    if a.profile and not (a.profiler_lib and os.path.isfile(a.profiler_lib)):
        ap.error("--profile needs async-profiler's libasyncProfiler.so: --profiler-lib PATH or ASYNC_PROFILER_LIB "
                 "(it is in the tools.profiler:async-profiler jar on Maven Central, under linux-x64/)")
    global PROXY_CPU, BACKEND_CPU, LOAD_CPU, BACKEND_MAXCONN, HAPROXY_SPLICE
    BACKEND_MAXCONN = a.backend_maxconn
    HAPROXY_SPLICE = a.haproxy_splice
    PROXY_CPU, BACKEND_CPU, LOAD_CPU = (LAYOUTS[a.layout][k] for k in ("proxy", "backends", "load"))
    targets = a.targets.split(",")
    for spec in a.sluice_variant:
        name, _, opts = spec.partition("=")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or f"sluice:{name}" in VARIANTS:
            ap.error(f"--sluice-variant {spec!r}: NAME=OPTIONS with a new NAME of letters, digits, _ . -")
        add_variant(name, opts.split(), targets)
    asked = a.scenarios.split(",")
    unknown = [sc for sc in asked if sc not in SCENARIOS and sc not in RELOAD_SCENARIOS and sc != "idle"]
    if unknown:
        ap.error(f"unknown scenario(s) {', '.join(unknown)}; known: "
                 f"{', '.join(list(SCENARIOS) + list(RELOAD_SCENARIOS) + ['idle'])}")
    # A reload scenario is compared with its base measured in the same rounds: the base runs too, just before it.
    scenarios = []
    for sc in asked:
        base = RELOAD_SCENARIOS[sc][0] if sc in RELOAD_SCENARIOS else None
        if base and base not in asked and base not in scenarios:
            scenarios.append(base)
        scenarios.append(sc)
    reloadable = any(sc in RELOAD_SCENARIOS for sc in scenarios)
    grpc = "grpc_unary" in scenarios
    work = os.path.join(a.root, "lb-bench/target/load")
    os.makedirs(work, exist_ok=True)

    lab = Lab(a.root, work)
    print(f"layout {a.layout}: {LAYOUT_LABELS[a.layout]}", flush=True)
    https = any(sc in SCENARIOS and SCENARIOS[sc][0] == "https" for sc in scenarios)
    tls = TlsSetup(work, a.tls_resumption == "on") if https else None
    results = {}  # (scenario, target) -> list of dicts
    reloads = {}
    if reloadable:
        writers = {
            "sluice": lambda w: write_sluice(work, "sluice", a.sluice_transport, admin=True, weight=w,
                                             tls=None if ("sluice", "https_small") in SKIPPED else tls, grpc=grpc),
            "sluice_splice": lambda w: write_sluice(work, "sluice_splice", a.sluice_transport, admin=True, weight=w),
            "haproxy": lambda w: write_haproxy(work, a.peer_buffers, weight=w, tls=tls, grpc=grpc),
            "nginx": lambda w: write_nginx(work, a.peer_buffers, weight=w, tls=tls, grpc=grpc),
        }
        reloads = {t: Reloads(lab, t, work, writers[t]) for t in targets if t in writers}
    try:
        BACKEND_ROOTS.append(lab.start("backend", ["nginx", "-c", write_backend(work), "-p", work], BACKEND_PORTS[0],
                                       BACKEND_CPU).pid)
        for p in BACKEND_PORTS:
            wait_port(p)
        if grpc:
            lab.start("grpc-backend", [shutil.which("java"), "-Xms64m", "-Xmx256m", "-cp",
                                       os.path.join(a.root, "lb-bench/target/benchmarks.jar"),
                                       "io.sluice.bench.GrpcUnaryServer"] + [str(p) for p in GRPC_BACKEND_PORTS],
                      GRPC_BACKEND_PORTS[0], BACKEND_CPU)
            BACKEND_ROOTS.append(lab.procs["grpc-backend"].pid)
            for p in GRPC_BACKEND_PORTS:
                wait_port(p)
        start_proxies(lab, work, a.root, targets, a.sluice_transport, a.peer_buffers, reloadable, tls, grpc,
                      a.sluice_jvm_opts)
        check_h2(targets, scenarios, work)
        for warmup in warmup_durations(a.warmup, a.warmup_passes):
            for t in targets:  # warm-up of every path measured (JIT for Sluice, caches for all), same for everyone
                for sc in scenarios:
                    if sc in SCENARIOS and port_of(t, sc):
                        run_load(port_of(t, sc), sc, warmup, None, work)
                    elif sc in RELOAD_SCENARIOS and port_of(t, sc):  # the reload path too (Sluice's first reloads
                        _, _, args, path = SCENARIOS[RELOAD_SCENARIOS[sc][0]]  # load its classes and run interpreted)
                        run_wrk(port_of(t, sc), args, path, warmup, lab.procs[t].pid, reloads[t])
                        reloads[t].settle()
        for rnd in range(a.rounds):
            for sc in scenarios:
                if sc == "idle":
                    continue
                _, _, args, path = SCENARIOS[RELOAD_SCENARIOS[sc][0] if sc in RELOAD_SCENARIOS else sc]
                for t in round_order(targets, rnd, a.order):
                    if not port_of(t, sc):
                        continue
                    if sc in RELOAD_SCENARIOS:
                        r = run_wrk(port_of(t, sc), args, path, a.duration, lab.procs[t].pid, reloads[t])
                        reloads[t].settle()
                    else:
                        pid = None if t == "direct" else lab.pid_of(t)
                        watch = Watch(pid, safepoint_log(work, t) if is_sluice(t) else None) if pid else None
                        r = run_load(port_of(t, sc), sc, a.duration, pid, work)
                        if watch:
                            r.update(watch.stop())
                    results.setdefault((sc, t), []).append(r)
                    print(f"round {rnd + 1} {sc:12} {t:8} {r['rps']:10.0f} req/s {r['mbps']:9.1f} MiB/s "
                          f"p50 {r['p50']:7.3f} ms p99 {r['p99']:7.3f} ms CPU {r['cpu_us']:6.1f} us/req "
                          f"RSS {r.get('rss_peak_mib', float('nan')):5.0f} MiB"
                          + (f" pauses {r['safepoints']} {r['pause_total_ms']:.1f} ms (max {r['pause_max_ms']:.2f})"
                             if "safepoints" in r else "") + f" {r['errors']}", flush=True)
                    if sc in RELOAD_SCENARIOS:
                        print(f"        reloads asked {r['reloads_asked']}, done {r['reloads_done']} (failed "
                              f"{r['reloads_failed']}, confirmed one by one {r['reloads_answered']}); socket errors "
                              f"connect {r.get('connect', '?')} read {r.get('read', '?')} write {r.get('write', '?')} "
                              f"timeout {r.get('timeout', '?')}; non-2xx {r.get('non2xx', '?')}; most workers "
                              f"{r['most_workers'] or '-'} {'; '.join(r['reload_problems'])}", flush=True)
        if a.profile:
            for sc in scenarios:
                for t in targets:
                    if sc in SCENARIOS and is_sluice(t) and port_of(t, sc):
                        profile_run(lab, work, t, sc, a.duration, a.profiler_lib, a.sluice_jvm_opts)
        if "idle" in scenarios:
            for t in targets:
                if t == "direct" or not port_of(t, "idle") or t not in lab.procs:
                    continue
                r = idle_memory(lab, t, a.idle)
                results.setdefault(("idle", t), []).append(r)
                print(f"idle {t:8} {r['kib_per_conn']:.2f} KiB/connection (RSS {r['rss_before_mib']:.0f} -> "
                      f"{r['rss_after_mib']:.0f} MiB)", flush=True)
    finally:
        lab.stop_all()
    # Every round's figures, so that a table can be checked or re-derived.
    # "run" says how they were taken (the layout and the JVMs); every other key is "scenario/target".
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({"run": {"layout": a.layout, "pinning": LAYOUTS[a.layout],
                           "sluice_jvms": {t: " ".join([java] + opts) for t in targets if is_sluice(t)
                                           for java, opts in [sluice_jvm(t, a.sluice_jvm_opts)]}},
                   **{f"{sc}/{t}": rs for (sc, t), rs in results.items()}}, f, indent=1)
    report(a, work, targets, scenarios, results)


def profile_run(lab, work, target, sc, seconds, lib, jvm_opts):
    """One more run of a scenario against a Sluice target with async-profiler attached through jcmd (the JVM's
    own attach mechanism, so nothing is loaded at start and the measured rounds ran without it). Writes the
    collapsed stacks of every thread and a flame graph of the event loop's thread. A profile that cannot be made
    is reported and skipped: the run's figures must not be lost to it."""
    pid = lab.pid_of(target)
    java = os.path.realpath(sluice_jvm(target, jvm_opts)[0])
    jcmd = os.path.join(os.path.dirname(java), "jcmd")
    if not os.path.exists(jcmd):  # a JRE, a jlinked runtime or a wrapper script: the jcmd on the PATH then
        jcmd = shutil.which("jcmd") or jcmd
    stem = os.path.join(work, f"profile-{sc}-{file_stem(target)}")

    def agent(command):
        # jcmd reads name=value pairs itself unless the agent's options are quoted; it exits 0 even when the
        # agent refused, so the agent's own answer is checked.
        out = sh([jcmd, str(pid), "JVMTI.agent_load", f'"{lib}"', f'"{command}"']).stdout
        if "error" in out.lower():
            raise RuntimeError(f"async-profiler said: {out.strip()}")

    try:
        if os.path.exists(stem + ".collapsed"):
            os.remove(stem + ".collapsed")
        agent("start,event=cpu,interval=1ms,threads")
        try:
            run_load(port_of(target, sc), sc, seconds, None, work)
        finally:
            agent(f"stop,file={stem}.collapsed,collapsed")
        if not os.path.exists(stem + ".collapsed"):
            raise RuntimeError("the profiler wrote no samples")
        with open(stem + ".svg", "w") as out:
            subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "flame_svg.py"),
                            stem + ".collapsed", "--thread", "sluice-worker", "--title",
                            f"{sc}, {target}: event loop thread, CPU samples (kernel frames, if perf allows, end in _[k])"],
                           stdout=out, check=True)
    except (OSError, RuntimeError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stdout", None) or getattr(e, "stderr", None) or ""
        print(f"profile {sc:12} {target:8} skipped: {e} {detail}".strip(), file=sys.stderr, flush=True)
        return
    print(f"profile {sc:12} {target:8} -> {stem}.svg", flush=True)


def is_sluice(target):
    return target.startswith("sluice")


def round_order(targets, rnd, order):
    """The order of the targets in round `rnd`. A target's place in the round moves its figures: measured
    2026-12-06, the same Sluice jar run as two targets used 10-25% more CPU per request in the earlier place of
    every round (docs/bench/measurements-2026-12-06-order.md), so a fixed order favours whoever comes last, the
    peers and the variants. `rotate` starts each round one target further on, so that over as many rounds as
    there are targets each takes every place once."""
    if order == "fixed" or not targets:
        return list(targets)
    k = rnd % len(targets)
    return list(targets[k:]) + list(targets[:k])


def warmup_durations(seconds, passes):
    """Seconds of each warm-up pass: the first as asked, later ones (recompilation after the switches between
    scenarios, not first compilation) half as long, at least 3 s."""
    return [seconds] + [max(3, seconds // 2)] * max(0, passes - 1)


def add_variant(name, opts, targets):
    """Target sluice:NAME with its own ports, placed after the other Sluice targets (so that the rounds run the
    Sluices one after the other)."""
    target = f"sluice:{name}"
    java = shutil.which("java")
    if opts and os.path.isabs(opts[0]):
        java, opts = opts[0], opts[1:]
    jars = [o for o in opts if o.startswith("--jar=")]
    if jars:
        VARIANT_JARS[target] = os.path.abspath(jars[-1][len("--jar="):])
        opts = [o for o in opts if not o.startswith("--jar=")]
    transports = [o for o in opts if o.startswith("--transport=")]
    if transports:
        VARIANT_TRANSPORTS[target] = transports[-1][len("--transport="):]
        opts = [o for o in opts if not o.startswith("--transport=")]
    pools = [o for o in opts if o.startswith("--pool=")]
    if pools:
        VARIANT_POOLS[target] = int(pools[-1][len("--pool="):])
        opts = [o for o in opts if not o.startswith("--pool=")]
    relays = [o for o in opts if o.startswith("--tcp-relay=")]
    if relays:
        VARIANT_TCP_RELAYS[target] = relays[-1][len("--tcp-relay="):]
        opts = [o for o in opts if not o.startswith("--tcp-relay=")]
    VARIANTS[target] = (java, opts)
    taken = {p for ports in PROXY_PORTS.values() for p in ports.values()}
    base = next(p for p in range(VARIANT_BASE_PORT, VARIANT_BASE_PORT + 99, 4)
                if all(q not in taken and bindable(q) for q in (p, p + 1, p + 2, p + 3)))
    PROXY_PORTS["tcp"][target] = base
    PROXY_PORTS["http"][target] = PROXY_PORTS["h2c"][target] = base + 1
    PROXY_PORTS["grpc"][target] = base + 2  # its gRPC listener (with its h2c cluster) in runs with grpc_unary
    PROXY_PORTS["https"][target] = base + 3  # its HTTPS listener in runs with the https scenarios
    last = max((i for i, t in enumerate(targets) if is_sluice(t)), default=len(targets) - 1)
    targets.insert(last + 1, target)


def bindable(port):
    """Whether nothing holds the port now: with the wide local port range compare.sh sets, any client socket on
    this machine (other tests, other runs) may have it."""
    with socket.socket() as s:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen(1)  # what Sluice's listener will do
            return True
        except OSError:
            return False


def med(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def paired(results, sc, target, base, key):
    """The median over rounds of target/base measured in the same round: the machine's drift between rounds
    (other tenants, frequency) hits both sides of a pair alike and cancels out."""
    a, b = results.get((sc, target), []), results.get((sc, base), [])
    return med([x[key] / y[key] for x, y in zip(a, b) if y[key] == y[key] and y[key]])


def openssl_version():
    return subprocess.run(["openssl", "version"], text=True, capture_output=True).stdout.strip()


def congestion_control(a):
    if a.route_congestion_control:
        return f"{a.route_congestion_control} (set on the loopback routes)"
    with open("/proc/sys/net/ipv4/tcp_congestion_control") as f:
        return f.read().strip()


def fmt(v, digits=2):
    return "–" if v != v else f"{v:.{digits}f}"


def report(a, work, targets, scenarios, results):
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {
        "sluice": subprocess.run(["java", "-jar", os.path.join(a.root, "lb-core/target/sluice.jar"), "--version"],
                                 text=True, capture_output=True).stdout.strip(),
        "haproxy": sh(["haproxy", "-v"]).stdout.splitlines()[0].split(" - ")[0],
        "nginx": subprocess.run(["nginx", "-v"], text=True, capture_output=True).stderr.strip(),
        "java": subprocess.run(["java", "-version"], text=True, capture_output=True).stderr.splitlines()[0],
    }
    lines = [f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {cpu} ({os.cpu_count()} cores); "
             f"warm-up {' + '.join(f'{w}s' for w in warmup_durations(a.warmup, a.warmup_passes))} per scenario "
             f"and target; {a.rounds} rounds of {a.duration}s"
             f"{', each round starting one target further on' if a.order == 'rotate' else ', targets in the same order every round'}"
             f"; figures are medians over rounds, ratios are medians of the ratios "
             f"measured within each round; layout {a.layout}: {LAYOUT_LABELS[a.layout]}; "
             f"one worker thread/process per proxy; TCP congestion control "
             f"{congestion_control(a)}{' (a private network namespace)' if a.private_netns else ''}; "
             f"peer buffers: {PEER_BUFFER_LABELS[a.peer_buffers]}"
             f"{'; HAProxy with option splice-request and splice-response' if a.haproxy_splice else ''}"
             f"{f'; at most {a.backend_maxconn} connections to each HTTP server (Sluice and HAProxy; NGINX unlimited)' if a.backend_maxconn else ''}.",
             "Versions: " + "; ".join(f"{k}: {v}" for k, v in versions.items()), ""]
    for t in targets:
        if is_sluice(t):
            java, opts = sluice_jvm(t, a.sluice_jvm_opts)
            lines.append(f"- `{t}` JVM: `{' '.join([java] + opts)}`"
                         + (f" ({java_version(java)})" if t in VARIANTS else ""))
    for sc in scenarios:
        if sc in SCENARIOS:
            lines.append(f"- `{sc}`: {SCENARIOS[sc][1]}")
        elif sc in RELOAD_SCENARIOS:
            lines.append(f"- `{sc}`: {RELOAD_SCENARIOS[sc][1]} (the load of `{RELOAD_SCENARIOS[sc][0]}`; "
                         f"Sluice by POST /admin/reload, HAProxy in master-worker mode by SIGUSR2 to the master, "
                         f"NGINX by `nginx -s reload`; the first backend's weight alternates between 1 and 2)")
    if any(sc in SCENARIOS and SCENARIOS[sc][0] == "https" for sc in scenarios):
        lines.append(f"- HTTPS: one ECDSA P-256 certificate (openssl req) for all, TLS 1.3 only, ALPN http/1.1; "
                     f"`sluice` with `tls.provider: openssl` (BoringSSL), `sluice_jdk` with `tls.provider: jdk`, "
                     f"HAProxy `bind ... ssl crt`, NGINX `listen ... ssl`; wrk on {openssl_version()}; backends plain "
                     f"HTTP; session resumption {a.tls_resumption} for every proxy ("
                     + ("tickets and caches on: wrk resumes on reconnect, so `https_handshake` is an abbreviated "
                        "handshake per request)" if a.tls_resumption == "on" else
                        "Sluice `session_tickets: false` and `session_cache: false` (OpenSSL only), HAProxy `no-tls-tickets` and `tune.ssl.cachesize 0`, NGINX "
                        "`ssl_session_tickets off` and `ssl_session_cache off`: `https_handshake` is a full handshake "
                        "per request)"))
    if any(sc in SCENARIOS and SCENARIOS[sc][0] in H2_MODES for sc in scenarios):
        h2load = subprocess.run(["h2load", "--version"], text=True, capture_output=True).stdout.strip()
        lines.append(f"- HTTP/2: {h2load} (`h2load -t1 -D <duration>`, h2c by prior knowledge), which gives no latency "
                     f"percentiles; Sluice on its HTTP listener (h2c on the same port, its default), HAProxy "
                     f"`bind ... proto h2`, NGINX `listen ... http2`. gRPC servers: lb-bench's GrpcUnaryServer (Netty, "
                     f"one event loop, three ports); Sluice cluster `protocol: h2c`, HAProxy `server ... proto h2`, "
                     f"NGINX `grpc_pass grpc://` with `keepalive 64`. CPU per request counts the requests that "
                     f"succeeded; each target answered one curl request (HTTP/2 200, grpc-status 0) before measuring.")
    for (t, sc), why in SKIPPED.items():
        lines.append(f"- left out: `{t}` in `{sc}`: {why}")
    lines += ["", "| scenario | target | req/s | MiB/s | p50 ms | p99 ms | proxy CPU µs/req | req/s vs HAProxy "
                  "| p99 vs HAProxy | CPU/req vs HAProxy | req/s vs direct | proxy RSS MiB (peak) |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    chart = []
    for sc in scenarios:
        if sc == "idle":
            continue
        for t in targets:
            rs = results.get((sc, t), [])
            if not rs:
                continue
            rps = med([r["rps"] for r in rs])
            mbps = med([r["mbps"] for r in rs])
            p99 = med([r["p99"] for r in rs])
            cpu = med([r["cpu_us"] for r in rs])
            vs_h = paired(results, sc, t, "haproxy", "rps")
            p99_h = paired(results, sc, t, "haproxy", "p99")
            cpu_h = paired(results, sc, t, "haproxy", "cpu_us")
            vs_d = paired(results, sc, t, "direct", "rps")
            lines.append(f"| {sc} | {t} | {rps:,.0f} | {mbps:,.1f} | {fmt(med([r['p50'] for r in rs]), 3)} | "
                         f"{fmt(p99, 3)} | {fmt(cpu, 1)} | {fmt(vs_h)} | {fmt(p99_h)} | {fmt(cpu_h)} | {fmt(vs_d)} | "
                         f"{fmt(med([r.get('rss_peak_mib', float('nan')) for r in rs]), 0)} |")
            chart.append((sc, t, vs_d, cpu_h))
    if "idle" in scenarios:
        lines += ["", "| idle connections | target | KiB resident per connection |", "|---|---|---:|"]
        for t in targets:
            rs = results.get(("idle", t), [])
            if rs:
                lines.append(f"| {a.idle} | {t} | {med([r['kib_per_conn'] for r in rs]):.2f} |")
    lines += cpu_split_table(scenarios, targets, results)
    lines += h2load_table(scenarios, targets, results)
    lines += reload_table(scenarios, targets, results)
    lines += jvm_table(scenarios, targets, results, a.duration)
    text = "\n".join(lines) + "\n"
    open(os.path.join(work, "results.md"), "w").write(text)
    print("\n" + text)
    plot(work, chart, targets, f"layout {a.layout}: {LAYOUT_LABELS[a.layout]}")


def cpu_split_table(scenarios, targets, results):
    """Each proxy's CPU per request in user space and in the kernel (medians over rounds): the kernel's part is the
    floor below which no change to a proxy's own code can take it."""
    rows = []
    for sc in scenarios:
        if sc not in SCENARIOS:
            continue
        for t in targets:
            rs = [r for r in results.get((sc, t), []) if "sys_us" in r]
            if not rs:
                continue
            user, sys_ = med([r["user_us"] for r in rs]), med([r["sys_us"] for r in rs])
            backends = med([r.get("backend_cpu_us", float("nan")) for r in rs])
            rows.append(f"| {sc} | {t} | {fmt(user, 1)} | {fmt(sys_, 1)} | {fmt(sys_ / (user + sys_) if user + sys_ else float('nan'))} | "
                        f"{fmt(backends, 1)} |")
    if not rows:
        return []
    return ["", "Where each proxy's CPU per request goes (from /proc/PID/stat utime and stime; medians over rounds), and what "
            "the backends spent per request behind it (their processes' user + system time):", "",
            "| scenario | target | user µs/req | kernel µs/req | kernel share | backends µs/req |",
            "|---|---|---:|---:|---:|---:|"] + rows


def java_version(java):
    return subprocess.run([java, "-version"], text=True, capture_output=True).stderr.splitlines()[0]


def jvm_table(scenarios, targets, results, duration):
    """The Sluice JVMs side by side, each against `sluice` in the same rounds, with the pauses (safepoints) and
    resident memory of their runs: what a JVM option changes."""
    sluices = [t for t in targets if is_sluice(t)]
    base = "sluice" if "sluice" in sluices else sluices[0] if sluices else None
    rows = []
    for sc in scenarios:
        if sc not in SCENARIOS:
            continue
        for t in sluices:
            rs = results.get((sc, t), [])
            if not rs:
                continue
            per_s = lambda key: med([r.get(key, float("nan")) / duration for r in rs])
            per_req = lambda kind: med([r["thread_cpu_s"].get(kind, 0.0) * 1e6 / r["requests"] for r in rs
                                        if r.get("thread_cpu_s") is not None and r.get("requests")])
            rows.append(f"| {sc} | {t} | {med([r['rps'] for r in rs]):,.0f} | {fmt(med([r['p99'] for r in rs]), 3)} | "
                        f"{fmt(med([r['cpu_us'] for r in rs]), 1)} | {fmt(paired(results, sc, t, base, 'rps'))} | "
                        f"{fmt(paired(results, sc, t, base, 'p99'))} | {fmt(paired(results, sc, t, base, 'cpu_us'))} | "
                        f"{fmt(per_req('loop'), 1)} | {fmt(per_req('gc'), 1)} | {fmt(per_req('jit'), 1)} | "
                        f"{fmt(per_s('safepoints'), 1)} | {fmt(per_s('pause_total_ms'), 2)} | "
                        f"{fmt(max((r.get('pause_max_ms', float('nan')) for r in rs), default=float('nan')), 2)} | "
                        f"{fmt(med([r.get('rss_mean_mib', float('nan')) for r in rs]), 0)} | "
                        f"{fmt(max((r.get('rss_peak_mib', float('nan')) for r in rs), default=float('nan')), 0)} |")
    if len(sluices) < 2 or not rows:
        return []
    return ["", f"Sluice JVMs (ratios: medians of the ratios to `{base}` in the same round; event loop, GC and JIT: "
                "CPU time of the event loop's thread, of the collector's threads (with the VM thread, where Serial collects) and of the JIT compilers per "
                "request, part of the CPU per request; pauses: safepoints the "
                "JVM logged during the runs, every stop-the-world GC pause among them, per second of run and the "
                "longest of all rounds; RSS sampled every 0.2 s, median of the runs' means and the highest sample):",
            "", f"| scenario | target | req/s | p99 ms | CPU µs/req | req/s vs {base} | p99 vs {base} | "
                f"CPU/req vs {base} | event loop µs/req | GC µs/req | JIT µs/req | safepoints/s | paused ms/s | longest pause ms | "
                f"RSS MiB mean | RSS MiB max |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"] + rows


def h2load_table(scenarios, targets, results):
    """What h2load tells besides the rate: its mean time per request (it has no percentiles) and, all rounds
    added up, the requests that did not succeed."""
    rows = []
    for sc in scenarios:
        if sc not in SCENARIOS or SCENARIOS[sc][0] not in H2_MODES:
            continue
        for t in targets:
            rs = results.get((sc, t), [])
            if not rs:
                continue
            total = lambda key: sum(r.get(key, 0) for r in rs)
            rows.append(f"| {sc} | {t} | {fmt(med([r['mean'] for r in rs]), 3)} | {total('succeeded'):,} | "
                        f"{total('non2xx')} / {total('failed')} / {total('errored')} / {total('timeout')} |")
    if not rows:
        return []
    return ["", "h2load scenarios (mean time per request, median over rounds; requests of all rounds added up):", "",
            "| scenario | target | mean ms | succeeded (2xx) | non-2xx / failed / errored / timeout |",
            "|---|---|---:|---:|---:|"] + rows


def reload_table(scenarios, targets, results):
    """Per proxy: the rate while reloading against its plain run in the same rounds (the dip), and the errors and
    reloads of all rounds added up."""
    rows = []
    for sc in scenarios:
        if sc not in RELOAD_SCENARIOS:
            continue
        base = RELOAD_SCENARIOS[sc][0]
        for t in targets:
            rs = results.get((sc, t), [])
            if not rs:
                continue
            plain = results.get((base, t), [])
            total = lambda key: sum(r.get(key, 0) for r in rs)
            errors = sum(total(k) for k in ("connect", "read", "write", "timeout", "non2xx"))
            done = total("reloads_done")
            workers = [r["most_workers"] for r in rs if r.get("most_workers")]
            failed = f" ({total('reloads_failed')} failed)" if total("reloads_failed") else ""
            rows.append(f"| {sc} | {t} | {done}/{total('reloads_asked')}{failed} | "
                        f"{med([r['rps'] for r in rs]):,.0f} | {med([r['rps'] for r in plain]):,.0f} | "
                        f"{fmt(paired_with(rs, plain, 'rps'))} | {med([r['p99'] for r in rs]):.3f} | "
                        f"{med([r['p99'] for r in plain]):.3f} | {total('connect')} / {total('read')} / "
                        f"{total('write')} / {total('timeout')} | {total('non2xx')} | "
                        f"{fmt(errors / done if done else float('nan'))} | {max(workers) if workers else '–'} |")
    if not rows:
        return []
    return ["", "Reloads (every second during the run, all rounds added up; \"vs plain\" is the median of the "
                "ratios to the same proxy's plain run of the same load in the same round; socket errors and "
                "non-2xx as wrk counts them; most workers: worker processes alive at once, old ones included):", "",
            "| scenario | target | reloads done/asked | req/s | req/s plain | req/s vs plain | p99 ms | p99 ms plain "
            "| socket errors connect / read / write / timeout | non-2xx | errors per reload | most workers |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"] + rows


def paired_with(rs, base, key):
    """The median over rounds of a run's figure divided by its base's of the same round."""
    return med([x[key] / y[key] for x, y in zip(rs, base) if y[key] == y[key] and y[key]])


COLORS = {"direct": "#9e9e9e", "sluice": "#1b9e77", "sluice_splice": "#66a61e", "sluice_jdk": "#7570b3",
          "haproxy": "#377eb8",
          "nginx": "#e6883c"}
VARIANT_COLORS = ["#66c2a5", "#a6d854", "#8da0cb", "#e78ac3", "#ffd92f", "#b3b3b3", "#1f78b4", "#b15928"]


def color(target):
    if target in VARIANTS:
        return VARIANT_COLORS[list(VARIANTS).index(target) % len(VARIANT_COLORS)]
    return COLORS.get(target, "#888888")


def plot(work, chart, targets, heading):
    """Two bar charts side by side: throughput relative to direct, and proxy CPU per request relative to HAProxy;
    `heading` over both (the layout)."""
    if not shutil.which("gnuplot") or not chart:
        return
    scen = []
    for sc, *_ in chart:
        if sc not in scen:
            scen.append(sc)
    panels = []
    for index, title, cols in ((2, "Requests/s relative to direct (higher is better)", targets),
                               (3, "Proxy CPU per request relative to HAProxy (lower is better)",
                                [t for t in targets if t != "direct"])):
        values = {(c[0], c[1]): c[index] for c in chart}
        # gnuplot refuses a column without one number (a target that only takes part in other scenarios).
        cols = [t for t in cols if any(values.get((sc, t), float("nan")) == values.get((sc, t), float("nan"))
                                       for sc in scen)]
        if not cols or all(v != v for v in values.values()):
            continue
        data = os.path.join(work, f"chart{index}.dat")
        with open(data, "w") as f:
            f.write("scenario " + " ".join(cols) + "\n")
            for sc in scen:
                f.write(sc + " " + " ".join(f"{values.get((sc, t), float('nan')):.4f}" for t in cols) + "\n")
        series = [f"'{data}' using {i + 2}{':xtic(1)' if i == 0 else ''} title columnheader({i + 2}) "
                  f"lc rgb '{color(t)}'" for i, t in enumerate(cols)]
        panels.append(f"set title '{title}'\nplot " + ", ".join(series) + "\n")
    if not panels:
        return
    script = f"""
set terminal png size {900 * len(panels)},450 noenhanced
set output '{work}/results.png'
set multiplot layout 1,{len(panels)} title '{heading}'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set yrange [0:*]
set key below horizontal
set grid ytics
set xtics rotate by -30
{"".join(panels)}
unset multiplot
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


if __name__ == "__main__":
    sys.exit(main())
