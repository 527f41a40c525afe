#!/usr/bin/env python3
"""Soak run of Sluice: mixed HTTP and TCP load for a long time, with reloads, servers killed with SIGKILL and
restarted, and slow clients, sampling what would grow if something leaked. See lb-bench/soak.sh for usage.

Everything runs on loopback and stops by itself after --minutes. Writes, under --out:
  soak-DATE.tsv  one row per sample: seconds, RSS, Netty direct memory, heap after GC, file descriptors,
                 threads, p99 of the last HTTP load segment, requests/s
  soak-DATE.png  one panel per series
  soak-DATE.md   the verdict: per series, its level after warm-up and its trend (least-squares slope) over the
                 run, and the requests lost
"""
import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "load"))
from compare import parse_wrk, rss_kib, sh, wait_port, wrk_errors  # noqa: E402

BACKENDS = [19401, 19402, 19403]
HTTP_PORT, TCP_PORT, ADMIN_PORT = 19411, 19412, 19413
SEGMENT = 10          # seconds per wrk run: each gives one p99
SAMPLE_EVERY = 5      # seconds between samples
GC_EVERY = 30         # seconds between forced GCs, after which the heap is read ("heap after GC")
KILL_EVERY = 45       # a server is killed with SIGKILL this often...
DOWN_FOR = 10         # ...and restarted this much later
RELOAD_EVERY = 30
SLOWLORIS = 200       # connections sending one header byte every 2 s, reopened when closed
POST_CONNECTIONS = 2  # wrk connections uploading 40 KiB bodies
POST_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "post_40k.lua")
NON_READERS = 50      # connections that ask for 1 MiB and never read it, reopened when closed


def backend_conf(work, port):
    www = os.path.join(work, "www")
    os.makedirs(www, exist_ok=True)
    big = os.path.join(www, "big")
    if not os.path.exists(big):
        with open(big, "wb") as f:
            f.write(os.urandom(1 << 20))
    conf = f"""
master_process off;
daemon off;
worker_processes 1;
pid {work}/backend-{port}.pid;
error_log {work}/backend-{port}-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port} reuseport;
        location = /health {{ return 200 "ok\\n"; }}
        location = /big {{ root {www}; }}
        location / {{ return 200 "{port}\\n"; }}
    }}
}}
"""
    path = os.path.join(work, f"backend-{port}.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


def sluice_conf(weight):
    servers = "\n".join(f'      - {{ address: "127.0.0.1:{p}", weight: {weight if i == 0 else 1} }}'
                        for i, p in enumerate(BACKENDS))
    return f"""
admin: {{ bind: "127.0.0.1:{ADMIN_PORT}" }}
listeners:
  - name: web
    bind: "127.0.0.1:{HTTP_PORT}"
    protocol: http
    cluster: app
    http: {{ header_timeout: 5s, response_timeout: 10s }}
  - name: tcp
    bind: "127.0.0.1:{TCP_PORT}"
    protocol: tcp
    cluster: app
    idle_timeout: 30s
clusters:
  - name: app
    algorithm: least_connections
    health_check: {{ type: http, path: /health, interval: 1s, timeout: 1s, fall: 2, rise: 2 }}
    servers:
{servers}
"""


class Soak:
    def __init__(self, root, work, minutes):
        self.root = root
        self.work = work
        self.deadline = time.time() + minutes * 60
        self.start_time = time.time()
        self.backends = {}
        self.sluice = None
        self.rows = []
        self.segments = []           # (t, rps, p99 ms) of HTTP wrk runs
        self.http_errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0, "non2xx": 0}
        self.http_requests = 0
        self.tcp_errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0, "non2xx": 0}
        self.tcp_requests = 0
        self.tcp_big_requests = 0
        self.http_big_errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0, "non2xx": 0}
        self.http_big_requests = 0
        self.post_errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0, "non2xx": 0}
        self.post_requests = 0
        self.kills = 0
        self.reloads = 0
        self.slow_closed = 0
        self.lock = threading.Lock()
        self.final_errors, self.final_codes, self.retries = {}, {}, 0

    def running(self):
        return time.time() < self.deadline

    # --- processes ---------------------------------------------------------------------------------------------
    def start_backend(self, port):
        log = open(os.path.join(self.work, f"backend-{port}.log"), "a")
        self.backends[port] = subprocess.Popen(["nginx", "-c", backend_conf(self.work, port)], stdout=log,
                                               stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(port)

    def start_sluice(self):
        # A copy: a build during the run must not change the jar under the running JVM.
        jar = os.path.join(self.work, "sluice.jar")
        shutil.copy(os.path.join(self.root, "lb-core", "target", "sluice.jar"), jar)
        self.config = os.path.join(self.work, "sluice.yaml")
        with open(self.config, "w") as f:
            f.write(sluice_conf(1))
        log = open(os.path.join(self.work, "sluice.log"), "w")
        self.sluice = subprocess.Popen(["java", "-jar", jar, "run", self.config], stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        for port in (HTTP_PORT, TCP_PORT, ADMIN_PORT):
            wait_port(port)

    def stop_all(self):
        for p in list(self.backends.values()) + ([self.sluice] if self.sluice else []):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in list(self.backends.values()) + ([self.sluice] if self.sluice else []):
            try:
                p.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)

    # --- activities ----------------------------------------------------------------------------------------------
    @staticmethod
    def wrk(args):
        """One wrk run; its output even when it exits non-zero (it does after some socket errors)."""
        p = subprocess.run(["wrk", "-t1"] + args, text=True, capture_output=True)
        try:
            return parse_wrk(p.stdout), wrk_errors(p.stdout)
        except (AttributeError, ValueError):
            print("could not read wrk's output:", p.stdout, p.stderr, file=sys.stderr, flush=True)
            return {"rps": float("nan"), "p99": float("nan"), "requests": 0}, {"unreadable": 1}

    def http_load(self):
        while self.running():
            seconds = max(1, min(SEGMENT, int(self.deadline - time.time())))
            r, e = self.wrk(["-c16", "-d", f"{seconds}s", "--latency", "--timeout", "10s",
                             f"http://127.0.0.1:{HTTP_PORT}/"])
            with self.lock:
                self.segments.append((time.time() - self.start_time, r["rps"], r["p99"]))
                self.http_requests += r["requests"]
                for k in e:
                    self.http_errors[k] = self.http_errors.get(k, 0) + e[k]

    def http_big_load(self):
        """1 MiB answers through the HTTP listener: bodies the raw front splices, through kills and reloads."""
        while self.running():
            seconds = max(1, min(SEGMENT, int(self.deadline - time.time())))
            r, e = self.wrk(["-c2", "-d", f"{seconds}s", "--latency", "--timeout", "10s",
                             f"http://127.0.0.1:{HTTP_PORT}/big"])
            with self.lock:
                self.http_big_requests += r["requests"]
                for k in e:
                    self.http_big_errors[k] = self.http_big_errors.get(k, 0) + e[k]

    def post_load(self):
        """40 KiB uploads by Content-Length through the HTTP listener: request bodies the raw front reads itself."""
        while self.running():
            seconds = max(1, min(SEGMENT, int(self.deadline - time.time())))
            r, e = self.wrk([f"-c{POST_CONNECTIONS}", "-d", f"{seconds}s", "--latency", "--timeout", "10s",
                             "-s", POST_SCRIPT, f"http://127.0.0.1:{HTTP_PORT}/upload"])
            with self.lock:
                self.post_requests += r["requests"]
                for k in e:
                    self.post_errors[k] = self.post_errors.get(k, 0) + e[k]

    def tcp_load(self):
        """HTTP through the TCP listener: byte relay, so a killed server costs the connections relayed to it."""
        self.tcp_wrk(8, "/", "tcp_requests")

    def tcp_big_load(self):
        """1 MiB answers through the TCP listener: streams the raw relay splices, through kills and reloads."""
        self.tcp_wrk(2, "/big", "tcp_big_requests")

    def tcp_wrk(self, connections, path, counter):
        while self.running():
            seconds = max(1, min(SEGMENT, int(self.deadline - time.time())))
            r, e = self.wrk([f"-c{connections}", "-d", f"{seconds}s", "--latency", "--timeout", "10s",
                             f"http://127.0.0.1:{TCP_PORT}{path}"])
            with self.lock:
                setattr(self, counter, getattr(self, counter) + r["requests"])
                for k in e:
                    self.tcp_errors[k] = self.tcp_errors.get(k, 0) + e[k]

    def chaos(self):
        victim = 0
        while self.wait(KILL_EVERY):
            port = BACKENDS[victim % len(BACKENDS)]
            victim += 1
            self.backends[port].send_signal(signal.SIGKILL)
            self.backends[port].wait()
            self.kills += 1
            self.wait(DOWN_FOR)
            self.start_backend(port)

    def reload(self):
        weight = 1
        while self.wait(RELOAD_EVERY):
            weight = 2 if weight == 1 else 1
            tmp = self.config + ".tmp"
            with open(tmp, "w") as f:
                f.write(sluice_conf(weight))
            os.replace(tmp, self.config)
            self.sluice.send_signal(signal.SIGHUP)
            self.reloads += 1

    def slow_clients(self):
        """Keeps SLOWLORIS connections dribbling a request head and NON_READERS not reading a 1 MiB answer."""
        dribbling, stuck = [], []
        while self.running():
            while len(dribbling) < SLOWLORIS:
                dribbling.append(self.connect(b"GET / HTTP/1.1\r\nHost: soak\r\n"))
            while len(stuck) < NON_READERS:
                # Half on the TCP listener: a spliced stream stalled on a reader that never reads holds a pipe.
                port = TCP_PORT if len(stuck) % 2 else HTTP_PORT
                s = self.connect(b"GET /big HTTP/1.1\r\nHost: soak\r\n\r\n", rcvbuf=4096, port=port)
                stuck.append(s)
            alive = []
            for s in dribbling:
                try:
                    s.send(b"X")
                    alive.append(s)
                except OSError:
                    s.close()
                    self.slow_closed += 1
            dribbling = [s for s in alive if s is not None]
            still = []
            for s in stuck:
                if self.closed_by_peer(s):
                    s.close()
                    self.slow_closed += 1
                else:
                    still.append(s)
            stuck = still
            self.wait(2)
        for s in dribbling + stuck:
            s.close()

    @staticmethod
    def connect(head, rcvbuf=None, port=HTTP_PORT):
        s = socket.socket()
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.connect(("127.0.0.1", port))
        s.send(head)
        return s

    @staticmethod
    def closed_by_peer(s):
        """True when the connection is closed or reset; never reads what it was sent (MSG_PEEK only)."""
        try:
            s.setblocking(False)
            data = s.recv(1, socket.MSG_PEEK)
            return data == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def wait(self, seconds):
        """Sleeps, but not past the end of the run; False when the run is over."""
        end = min(time.time() + seconds, self.deadline)
        while time.time() < end:
            time.sleep(min(0.5, max(0, end - time.time())))
        return self.running()

    # --- samples -------------------------------------------------------------------------------------------------
    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{ADMIN_PORT}/metrics", timeout=10) as r:
            return r.read().decode()

    @staticmethod
    def metric_sum(text, name, labels=""):
        total = 0.0
        for m in re.finditer(r"^" + re.escape(name) + r"(\{[^}]*\})? (\S+)$", text, re.MULTILINE):
            if labels in (m.group(1) or ""):
                total += float(m.group(2))
        return total

    def sampler(self):
        last_gc = 0.0
        heap_after_gc = None
        while self.running():
            now = time.time() - self.start_time
            if now - last_gc >= GC_EVERY:
                sh(["jcmd", str(self.sluice.pid), "GC.run"])
                heap_after_gc = self.metric_sum(self.metrics(), "jvm_memory_used_bytes", 'area="heap"') / 2**20
                last_gc = now
            text = self.metrics()
            pid = self.sluice.pid
            with open(f"/proc/{pid}/status") as f:
                threads = int(re.search(r"^Threads:\s+(\d+)", f.read(), re.MULTILINE).group(1))
            with self.lock:
                p99 = self.segments[-1][2] if self.segments else float("nan")
                rps = self.segments[-1][1] if self.segments else float("nan")
            self.rows.append({
                "t": round(now, 1),
                "rss_mib": rss_kib(pid) / 1024,
                "direct_mib": self.metric_sum(text, "sluice_netty_direct_memory_used_bytes") / 2**20,
                "heap_after_gc_mib": heap_after_gc,
                "fds": len(os.listdir(f"/proc/{pid}/fd")),
                "threads": threads,
                "p99_ms": p99,
                "rps": rps,
                "loadavg": float(open("/proc/loadavg").read().split()[0]),
            })
            self.wait(SAMPLE_EVERY)

    def run(self):
        for port in BACKENDS:
            self.start_backend(port)
        self.start_sluice()
        jobs = [self.http_load, self.http_big_load, self.post_load, self.tcp_load, self.tcp_big_load, self.chaos, self.reload, self.slow_clients, self.sampler]
        threads = [threading.Thread(target=j, name=j.__name__, daemon=True) for j in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Sluice's own account of what went wrong, by reason and status, before it stops.
        text = self.metrics()
        self.final_errors = {m.group(1): float(m.group(2)) for m in re.finditer(
            r'^sluice_http_errors_total\{listener="web",reason="([^"]+)"\} (\S+)$', text, re.MULTILINE)
            if float(m.group(2)) > 0}
        self.final_codes = {m.group(1): float(m.group(2)) for m in re.finditer(
            r'^sluice_http_requests_total\{[^}]*code="([^"]+)"[^}]*listener="web"[^}]*\} (\S+)$', text,
            re.MULTILINE) if float(m.group(2)) > 0}
        self.retries = self.metric_sum(text, "sluice_http_retries_total")


SERIES = [("rss_mib", "RSS (MiB)"), ("direct_mib", "Netty direct memory (MiB)"),
          ("heap_after_gc_mib", "heap after GC (MiB)"), ("fds", "open file descriptors"),
          ("threads", "threads"), ("p99_ms", "HTTP p99 (ms)")]


def thirds(points, level):
    """`level` (min or median) of the first and of the last third of (t, v). A leak raises what is held when
    nothing transient is, so memory, descriptors and threads compare their low points: their bursts (a heap that
    grows between collections, waves of slow clients closed and reopened) come and go, and a median would land
    on either side of a two-level series depending on the phase. The tail latency compares medians."""
    n = len(points)
    if n < 6:
        return float("nan"), float("nan")
    k = n // 3
    return level(v for _, v in points[:k]), level(v for _, v in points[-k:])


def verdict(soak, warmup):
    """Per series after warm-up: its range, and its level in the last third against the first. Flat means
    the level rose by less than 10% (or by less than a small absolute step for counts). Only growth fails: a
    series that falls after warm-up (memory given back, a tail that calms down) is not a leak."""
    rows = [r for r in soak.rows if r["t"] >= warmup]
    span_h = (rows[-1]["t"] - rows[0]["t"]) / 3600 if len(rows) > 1 else 0
    out = []
    for key, title in SERIES:
        pts = [(r["t"], r[key]) for r in rows if r[key] is not None and r[key] == r[key]]
        first, last = thirds(pts, statistics.median if key == "p99_ms" else min)
        floor = {"fds": 20, "threads": 3, "p99_ms": 5}.get(key, 8)
        share = 0.25 if key == "p99_ms" else 0.10  # a tail on a shared 2-core machine is noisy
        flat = (last - first) <= max(share * abs(first), floor) if pts else False
        vals = [v for _, v in pts]
        out.append((title, min(vals) if vals else float("nan"), max(vals) if vals else float("nan"), first, last,
                    flat))
    return out, span_h


def write_outputs(soak, out_dir, warmup, minutes):
    os.makedirs(out_dir, exist_ok=True)
    day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    base = os.path.join(out_dir, f"soak-{day}")
    keys = ["t"] + [k for k, _ in SERIES] + ["rps", "loadavg"]
    with open(base + ".tsv", "w") as f:
        f.write("\t".join(keys) + "\n")
        for r in soak.rows:
            f.write("\t".join("" if r[k] is None else f"{r[k]:.2f}" if isinstance(r[k], float) else str(r[k])
                              for k in keys) + "\n")
    plot = f"""
set terminal pngcairo size 1200,900 font ",10"
set output "{base}.png"
set multiplot layout 3,2 title "Sluice soak, {minutes} min: HTTP+TCP load, SIGKILL of a server every {KILL_EVERY} s, reload every {RELOAD_EVERY} s, {SLOWLORIS} slowloris + {NON_READERS} non-reading clients"
set datafile separator "\\t"
set datafile missing ""
set xlabel "seconds"
set key off
set grid
"""
    for i, (key, title) in enumerate(SERIES):
        col = keys.index(key) + 1
        plot += f"""set title "{title}"
set yrange [0:*]
set arrow 1 from {warmup}, graph 0 to {warmup}, graph 1 nohead dt 2
plot "{base}.tsv" using 1:{col} with linespoints pt 7 ps 0.4
"""
    plot += "unset multiplot\n"
    subprocess.run(["gnuplot"], input=plot, text=True, check=True)
    table, span_h = verdict(soak, warmup)
    http_lost = sum(soak.http_errors.values())
    flat = all(t[-1] for t in table)
    e = soak.http_big_errors
    # Each kill can cut short only what its server was sending: one answer per wrk connection at most.
    big_ok = e["connect"] + e["timeout"] + e["non2xx"] == 0 and e["read"] + e["write"] <= 2 * soak.kills
    p = soak.post_errors
    # A POST is not sent again once its server may have seen it: one answer per connection and kill at most is
    # lost (a 502, or the connection cut), never a refused connection or a timeout.
    post_ok = (soak.post_requests > 0 and p["connect"] + p["timeout"] == 0
               and p["read"] + p["write"] + p["non2xx"] <= POST_CONNECTIONS * soak.kills)
    passed = flat and http_lost == 0 and big_ok and post_ok
    with open(base + ".md", "w") as f:
        f.write(f"# Soak run {day}: {'PASS' if passed else 'FAIL'}\n\n")
        f.write(f"Command: `lb-bench/soak.sh --minutes {minutes}` on {os.cpu_count()} cores, loopback. "
                f"Sluice with default JVM flags; 3 NGINX servers (one process each). Load: wrk, 16 keep-alive "
                f"connections on the HTTP listener (small answers) plus 2 fetching 1 MiB (spliced bodies) and "
                f"{POST_CONNECTIONS} uploading 40 KiB bodies (POST by Content-Length), and 8 on "
                f"the TCP listener (64 B answers) plus 2 there fetching 1 MiB (spliced streams), in {SEGMENT} s runs back to back; "
                f"a server killed with SIGKILL every {KILL_EVERY} s and restarted {DOWN_FOR} s later "
                f"({soak.kills} kills); a reload (a weight changed) every {RELOAD_EVERY} s ({soak.reloads} "
                f"reloads); {SLOWLORIS} slowloris and {NON_READERS} non-reading connections (half of them on the TCP listener) kept open "
                f"({soak.slow_closed} closed by Sluice and reopened). Samples every {SAMPLE_EVERY} s; heap "
                f"after a forced GC every {GC_EVERY} s. Warm-up: the first {warmup} s are not judged.\n\n")
        f.write(f"![soak](soak-{day}.png)\n\n")
        f.write("| series | min | max | first third | last third | change | flat |\n")
        f.write("|---|--:|--:|--:|--:|--:|:-:|\n")
        for title, lo, hi, first, last, ok in table:
            f.write(f"| {title} | {lo:.1f} | {hi:.1f} | {first:.1f} | {last:.1f} | {last - first:+.1f} | "
                    f"{'yes' if ok else 'NO'} |\n")
        f.write(f"\nThirds: the least value of the first and of the last third of the judged {span_h * 60:.1f} "
                f"minutes (p99: the median). A leak raises what is held when nothing transient is; RSS and "
                f"descriptors move in bursts (the heap grows between collections, slow clients are closed and "
                f"reopened in waves) that a trend line or a median would follow. Flat: the last third at most 10% "
                f"(p99: 25%) above the first, or at most 8 MiB, 20 descriptors, 3 threads or 5 ms above it.\n\n")
        f.write(f"HTTP listener: {soak.http_requests} requests, lost {http_lost} "
                f"(wrk socket errors and non-2xx: {soak.http_errors}). Every request here is an idempotent GET: "
                f"none may be lost. Sluice's count: responses by class {soak.final_codes}, errors by reason "
                f"{soak.final_errors or 'none'}, {soak.retries:.0f} requests sent again.\n\n")
        f.write(f"HTTP listener, 1 MiB answers (spliced): {soak.http_big_requests} requests, errors "
                f"{soak.http_big_errors}. A response whose server is killed mid-body cannot be resent: the "
                f"client sees it cut short (a read error), one per wrk connection and kill at most; none may fail "
                f"otherwise: {'met' if big_ok else 'NOT met'}.\n\n")
        f.write(f"HTTP listener, 40 KiB uploads (POST, Content-Length): {soak.post_requests} requests, errors "
                f"{soak.post_errors}. A POST is never sent again once its server may have seen it, so a kill costs "
                f"the one in flight on each connection at most ({POST_CONNECTIONS} x {soak.kills} kills); none may "
                f"fail otherwise: {'met' if post_ok else 'NOT met'}.\n\n")
        loads = [r["loadavg"] for r in soak.rows]
        f.write(f"Machine load average (1 min) during the run: median {statistics.median(loads):.1f}, max "
                f"{max(loads):.1f} on {os.cpu_count()} cores (the TSV has it per sample).\n\n")
        f.write(f"TCP listener: {soak.tcp_requests} requests of 64 B and {soak.tcp_big_requests} of 1 MiB, errors "
                f"{soak.tcp_errors}. A byte relay cannot "
                f"resend: requests on connections relayed to a killed server end with them (read errors).\n")
    print(open(base + ".md").read())
    return 0 if passed else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=120, help="seconds not judged at the start")
    ap.add_argument("--out", default=None, help="output directory (default: docs/soak)")
    a = ap.parse_args()
    root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    out = a.out or os.path.join(root, "docs", "soak")
    random.seed(1)
    work = tempfile.mkdtemp(prefix="sluice-soak-")
    soak = Soak(root, work, a.minutes)
    try:
        soak.run()
    finally:
        soak.stop_all()
    print(f"logs in {work}")
    return write_outputs(soak, out, min(a.warmup, a.minutes * 60 / 3), a.minutes)


if __name__ == "__main__":
    sys.exit(main())
