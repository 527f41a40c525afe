#!/usr/bin/env python3
"""Kernel work per proxied connection in tcp_connect (a new TCP connection per request) for Sluice, HAProxy and
NGINX, started with compare.py's configs and pinning. Run through conn_ops.sh (a private network namespace, the
bench lock). Usage: conn_ops.py ROOT OUTDIR [NAME=JVM OPTIONS ...] (more Sluices, as compare.py's --sluice-variant).
Environment: MODES (comma list of syscalls: perf stat of syscall tracepoints on the proxy's process; nstat: TCP
counters of the namespace; uring: io_uring submissions by opcode; states: TCP state changes by socket role;
kprof: perf record -g of the proxy's CPU, for conn_kernel.py), ROUNDS/RSECS (interleaved rounds with CPU time per
thread), DROUNDS (latency distribution and accept queue samples), CONNS, SECS, WARM, JVM, TARGETS, TRANSPORT (Sluice's: io_uring or epoll), KEEPALIVE=1 (keep-alive requests
as tcp_small/http_small instead of a connection each), LISTENER (tcp, http or https: TLS 1.3 without
resumption, as compare.py's https scenarios), LAYOUT (compare.py's --layout: dedicated or shared-core).
Every figure is per connection (per request with KEEPALIVE=1): the count over the run divided by the requests wrk completed."""
import collections, os, re, subprocess, sys, time, json

root, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(root, "lb-bench/load"))
import compare as C

MODES = os.environ.get("MODES", "syscalls,nstat,uring,states,kprof").split(",")
CONNS = os.environ.get("CONNS", "64")
SECS = int(os.environ.get("SECS", "3"))
WARM = int(os.environ.get("WARM", "10"))
JVM = os.environ.get("JVM", "-XX:+UseG1GC -Xms512m -Xmx512m -XX:+AlwaysPreTouch")
targets = os.environ.get("TARGETS", "sluice,haproxy,nginx").split(",")
C.PROXY_CPU, C.BACKEND_CPU, C.LOAD_CPU = (C.LAYOUTS[os.environ.get("LAYOUT", "dedicated")][k]
                                          for k in ("proxy", "backends", "load"))
for spec in sys.argv[3:]:
    name, _, opts = spec.partition("=")
    C.add_variant(name, opts.split(), targets)

SYSCALLS = ("socket connect accept accept4 bind listen setsockopt getsockopt getsockname getpeername shutdown close "
            "read write readv writev sendto recvfrom sendmsg recvmsg epoll_wait epoll_pwait epoll_ctl io_uring_enter "
            "epoll_pwait2 futex ioctl fcntl splice pipe2 mmap munmap madvise sched_yield mprotect eventfd2 clock_nanosleep "
            "rt_sigreturn gettid").split()

# wrk script that prints the latency distribution (µs) at the end of a run.
DIST_LUA = os.path.join(out, "dist.lua")
with open(DIST_LUA, "w") as f:
    f.write('''done = function(summary, latency, requests)
  io.write(string.format("DIST mean %.0f stdev %.0f", latency.mean, latency.stdev))
  for _, p in ipairs({1, 10, 25, 50, 75, 90, 95, 99, 99.9}) do
    io.write(string.format(" p%g %d", p, latency:percentile(p)))
  end
  io.write(string.format(" max %d\\n", latency.max))
end
''')
work = os.path.join(out, "work")
os.makedirs(work, exist_ok=True)
lab = C.Lab(root, work)


KEEPALIVE = os.environ.get("KEEPALIVE", "0") == "1"
LISTENER = os.environ.get("LISTENER", "tcp")
CLOSE = [] if KEEPALIVE else ["-H", "Connection: close"]
SCHEME = "https" if LISTENER == "https" else "http"


def wrk(port, secs=SECS, conns=CONNS):
    cmd = ["taskset", "-c", C.LOAD_CPU, "wrk", "-t1", "-c", conns, "-d", f"{secs}s", "--latency",
           *CLOSE, f"{SCHEME}://127.0.0.1:{port}/64"]
    o = subprocess.run(cmd, text=True, capture_output=True).stdout
    n = int(re.search(r"(\d+) requests in", o).group(1))
    return n, o


def nstat():
    o = subprocess.run(["nstat", "-az"], text=True, capture_output=True).stdout
    d = {}
    for line in o.splitlines():
        p = line.split()
        if len(p) >= 2 and p[1].isdigit():
            d[p[0]] = int(p[1])
    return d


def bg(cmd, log):
    return subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT)


def stop(p):
    p.send_signal(2)
    p.wait(30)


report = {}
try:
    lab.start("backend", ["nginx", "-c", C.write_backend(work), "-p", work], C.BACKEND_PORTS[0], C.BACKEND_CPU)
    for p in C.BACKEND_PORTS:
        C.wait_port(p)
    tls = C.TlsSetup(work, False) if LISTENER == "https" else None
    C.start_proxies(lab, work, root, targets, os.environ.get("TRANSPORT", "io_uring"), "256k", tls=tls, jvm_opts=JVM)
    for t in targets:
        wrk(C.PROXY_PORTS[LISTENER][t], WARM if t.startswith("sluice") else 3)
        wrk(C.PROXY_PORTS[LISTENER][t], max(3, WARM // 2) if t.startswith("sluice") else 2)
    def tcpu(pid):
        d = collections.Counter()
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                st = open(f"/proc/{pid}/task/{task}/stat").read()
            except FileNotFoundError:
                continue
            name = re.sub(r"[-#]?\d+$", "", st[st.index("(") + 1:st.rindex(")")])
            f = st.rsplit(")", 1)[1].split()
            d[name + " user"] += int(f[11]); d[name + " sys"] += int(f[12])
        return d
    for rnd in range(int(os.environ.get("ROUNDS", "0"))):
        for t in targets:
            pid = lab.pid_of(t)
            a = tcpu(pid)
            n, o = wrk(C.PROXY_PORTS[LISTENER][t], secs=int(os.environ.get("RSECS", "5")))
            b = tcpu(pid)
            tck = os.sysconf("SC_CLK_TCK")
            per = {k: round((b[k] - a[k]) / tck * 1e6 / n, 2) for k in b if b[k] - a[k]}
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", o).group(1))
            p50 = re.search(r"^\s+50%\s+(\S+)", o, re.M).group(1); p99 = re.search(r"^\s+99%\s+(\S+)", o, re.M).group(1)
            report.setdefault(t, {}).setdefault("rounds", []).append({"rps": rps, "p50": p50, "p99": p99, "cpu": per})
            print(f"round {rnd} {t:14} {rps:8.0f} req/s p50 {p50} p99 {p99} user {sum(v for k, v in per.items() if k.endswith('user')):.1f} sys {sum(v for k, v in per.items() if k.endswith('sys')):.1f} {per}", flush=True)
    for rnd in range(int(os.environ.get("DROUNDS", "0"))):
        for t in targets:
            port = C.PROXY_PORTS[LISTENER][t]
            qs = []
            stopq = [False]
            import threading
            def sample():
                while not stopq[0]:
                    o = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], text=True, capture_output=True).stdout.split()
                    if len(o) > 2: qs.append(int(o[1]))
                    time.sleep(0.005)
            th = threading.Thread(target=sample); th.start()
            cmd = ["taskset", "-c", C.LOAD_CPU, "wrk", "-t1", "-c", CONNS, "-d", "5s", "-s", DIST_LUA,
                   *CLOSE, f"{SCHEME}://127.0.0.1:{port}/64"]
            o = subprocess.run(cmd, text=True, capture_output=True).stdout
            stopq[0] = True; th.join()
            d = re.search(r"DIST.*", o).group(0)
            rps = re.search(r"Requests/sec:\s+([\d.]+)", o).group(1)
            qs.sort()
            print(f"dist {rnd} {t:14} rps {rps} {d} | acceptq samples {len(qs)} mean {sum(qs)/max(1,len(qs)):.1f} p50 {qs[len(qs)//2] if qs else '-'} max {qs[-1] if qs else '-'}", flush=True)
    for t in targets:
        port = C.PROXY_PORTS[LISTENER][t]
        pid = lab.pid_of(t)
        r = report.setdefault(t, {})
        tag = C.file_stem(t)
        if "syscalls" in MODES:
            ev = ",".join(f"syscalls:sys_enter_{s}" for s in SYSCALLS)
            f = os.path.join(out, f"{tag}-syscalls.txt")
            p = bg(["perf", "stat", "-x,", "--per-thread", "-e", ev, "-p", str(pid), "-o", f], f + ".log")
            time.sleep(1)
            n, o = wrk(port)
            stop(p)
            counts = collections.Counter()
            threads = collections.Counter()
            for line in open(f):
                parts = line.strip().split(",")
                if len(parts) < 4 or not parts[1].replace(".", "").isdigit():
                    continue
                thread, val, evn = parts[0], int(float(parts[1])), parts[3]
                name = evn.split("sys_enter_")[-1]
                counts[name] += val
                threads[re.sub(r"-\d+$", "", thread)] += val
            r["conns_syscalls"] = n
            r["syscalls"] = {k: round(v / n, 3) for k, v in counts.most_common() if v}
            r["syscall_threads"] = {k: round(v / n, 3) for k, v in threads.most_common(6)}
        if "nstat" in MODES:
            a = nstat()
            n, o = wrk(port)
            b = nstat()
            keys = ["TcpActiveOpens", "TcpPassiveOpens", "TcpOutSegs", "TcpInSegs", "TcpOutRsts", "TcpEstabResets",
                    "TcpExtTW", "TcpExtTWRecycled", "TcpExtTWKilled", "TcpExtDelayedACKs", "TcpExtTCPPureAcks",
                    "TcpExtTCPHPAcks", "TcpExtTCPAbortOnData", "TcpExtTCPAbortOnClose", "TcpExtTCPAbortOnLinger",
                    "TcpExtListenOverflows", "TcpExtListenDrops", "TcpExtTCPReqQFullDrop", "TcpExtTCPTimeWaitOverflow",
                    "TcpExtTCPOrigDataSent", "TcpExtTCPDelivered", "TcpExtTCPAutoCorking", "TcpExtTCPBacklogCoalesce",
                    "TcpExtTCPAckCompressed", "IpExtInOctets"]
            r["conns_nstat"] = n
            r["nstat"] = {k: round((b.get(k, 0) - a.get(k, 0)) / n, 3) for k in keys}
            r["wrk"] = o
        if "uring" in MODES and t.startswith("sluice"):
            f = os.path.join(out, f"{tag}-uring.data")
            p = bg(["perf", "record", "-q", "-e", "io_uring:io_uring_submit_req", "-p", str(pid), "-o", f], f + ".log")
            time.sleep(1)
            n, o = wrk(port)
            stop(p)
            s = subprocess.run(["perf", "script", "-i", f], text=True, capture_output=True).stdout
            ops = collections.Counter(re.findall(r"opcode ([A-Z_]+)", s))
            r["conns_uring"] = n
            r["uring"] = {k: round(v / n, 3) for k, v in ops.most_common()}
            os.remove(f)
        if "states" in MODES:
            f = os.path.join(out, f"{tag}-states.data")
            p = bg(["perf", "record", "-q", "-a", "-e", "sock:inet_sock_set_state,tcp:tcp_send_reset", "-o", f],
                   f + ".log")
            time.sleep(1)
            n, o = wrk(port, secs=2, conns="16")
            stop(p)
            s = subprocess.run(["perf", "script", "-i", f], text=True, capture_output=True).stdout
            trans = collections.Counter()
            backends = {str(x) for x in C.BACKEND_PORTS}
            def role(sport, dport):
                if sport == str(port): return "proxy<-client"
                if dport == str(port): return "client->proxy"
                if dport in backends: return "proxy->backend"
                if sport in backends: return "backend<-proxy"
                return "other"
            for line in s.splitlines():
                m = re.search(r"sport=(\d+) dport=(\d+).*oldstate=(\S+) newstate=(\S+)", line)
                if m:
                    trans[f"{role(m.group(1), m.group(2))} {m.group(3)}->{m.group(4)}"] += 1
                elif "tcp_send_reset" in line:
                    m = re.search(r"sport=(\d+) dport=(\d+)", line)
                    trans[f"RST {role(m.group(1), m.group(2)) if m else '?'}"] += 1
            r["conns_states"] = n
            r["states"] = {k: round(v / n, 3) for k, v in sorted(trans.items())}
            os.remove(f)
        if "kprof" in MODES:
            f = os.path.join(out, f"{tag}-kprof.data")
            p = bg(["perf", "record", "-q", "-g", "-C", C.PROXY_CPU, "-F", "4999", "-o", f], f + ".log")
            time.sleep(0.5)
            n, o = wrk(port)
            stop(p)
            r["conns_kprof"] = n
        print(t, json.dumps(r.get("syscalls")), json.dumps(r.get("uring")), flush=True)
finally:
    lab.stop_all()
json.dump(report, open(os.path.join(out, "report.json"), "w"), indent=1)
