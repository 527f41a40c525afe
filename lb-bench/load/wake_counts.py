#!/usr/bin/env python3
"""Wake-ups and syscalls per request of each proxy's thread, dedicated layout, with compare.py's configs (see wake_counts.sh).
Usage: wake_counts.py ROOT OUTDIR TARGETS SCENARIOS SECONDS [JVM OPTIONS...], inside a private netns (wake_counts.sh).
env: see wake_counts.sh."""
import os, re, subprocess, sys, time, glob
root, out, targets, scenarios, secs = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4].split(","), int(sys.argv[5])
jvm = " ".join(sys.argv[6:]) or "-XX:+UseG1GC -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:Tier3DelayOn=100000"
sys.path.insert(0, os.path.join(root, "lb-bench/load"))
import compare as c
c.PROXY_CPU, c.BACKEND_CPU, c.LOAD_CPU = "1", "0", "0"
os.makedirs(out, exist_ok=True)
work = os.path.join(out, "work"); os.makedirs(work, exist_ok=True)
lab = c.Lab(root, work)
AP = os.environ.get("ASYNC_PROFILER_LIB", "/work/tools/ap/linux-x64/libasyncProfiler.so")
EVENTS = ["context-switches", "cpu-migrations", "sched:sched_switch", "syscalls:sys_enter_io_uring_enter",
          "syscalls:sys_enter_epoll_wait", "syscalls:sys_enter_epoll_pwait", "syscalls:sys_enter_write",
          "syscalls:sys_enter_writev", "syscalls:sys_enter_read", "syscalls:sys_enter_accept4",
          "syscalls:sys_enter_connect", "syscalls:sys_enter_close", "io_uring:io_uring_submit_req",
          "io_uring:io_uring_complete", "task-clock"]
if os.environ.get("EVENTS"): EVENTS = os.environ["EVENTS"].split(",")
_print = print
def print(*a, **k):
    _print(*a, **k)
    with open(os.path.join(out, "summary.txt"), "a") as fh: _print(*a, file=fh)

def threads(pid):
    r = {}
    for t in glob.glob(f"/proc/{pid}/task/*"):
        try:
            r[int(os.path.basename(t))] = open(t + "/comm").read().strip()
        except OSError:
            pass
    return r

def ctxt(tid, pid):
    s = open(f"/proc/{pid}/task/{tid}/status").read()
    v = int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", s, re.M).group(1))
    n = int(re.search(r"^nonvoluntary_ctxt_switches:\s+(\d+)", s, re.M).group(1))
    st = open(f"/proc/{pid}/task/{tid}/stat").read().rsplit(")", 1)[1].split()
    return v, n, int(st[11]), int(st[12])  # utime, stime ticks

try:
    lab.start("backend", ["nginx", "-c", c.write_backend(work), "-p", work], c.BACKEND_PORTS[0], "0")
    for p in c.BACKEND_PORTS: c.wait_port(p)
    c.start_proxies(lab, work, root, targets, "io_uring", "256k", jvm_opts=jvm)
    for w in [int(x) for x in os.environ.get("WARM", "10,5").split(",")]:
        for t in targets:
            for sc in scenarios:
                c.run_load(c.port_of(t, sc), sc, w, None, work)
    for t in targets:
        pid = lab.pid_of(t)
        ths = threads(pid)
        main = [tid for tid, n in ths.items() if n.startswith("sluice-worker")] if t.startswith("sluice") else [pid]
        wt = main[0]
        print(t, "pid", pid, "worker tid", wt, ths[wt], flush=True)
        for sc, spin in [(sc, sp) for sc in scenarios for sp in ([False, True] if os.environ.get("SPIN") else [False])]:
            spinner = subprocess.Popen(["chrt", "-i", "0", "taskset", "-c", "1", "sh", "-c", "while :; do :; done"]) if spin else None
            if spin: t_label = "+spin"
            else: t_label = ""
            _, _, args, path = c.SCENARIOS[sc]
            port = c.port_of(t, sc)
            prof = os.environ.get("PROFILE") and t.startswith("sluice")
            if prof:
                pf = os.path.join(out, f"prof-{t}{'-spin' if spin else ''}-{sc}.collapsed")
                subprocess.run(["jcmd", str(pid), "JVMTI.agent_load", AP,
                                '"start,event=cpu,interval=200us,threads"'], capture_output=True)
            b = ctxt(wt, pid)
            wrk = ["taskset", "-c", "0", "wrk", "-t1", "-d", f"{secs}s", "--latency", "--timeout", "10s"] + args + [f"http://127.0.0.1:{port}{path}"]
            pst = subprocess.run(["perf", "stat", "--per-thread", "-x", ",", "-p", str(pid), "-e", ",".join(EVENTS), "--"] + wrk,
                                 capture_output=True, text=True)
            a = ctxt(wt, pid)
            if prof:
                subprocess.run(["jcmd", str(pid), "JVMTI.agent_load", AP, f'"stop,file={pf},collapsed"'], capture_output=True)
            if spinner:
                spinner.kill(); spinner.wait()
            reqs = int(re.search(r"(\d+) requests in", pst.stdout).group(1))
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", pst.stdout).group(1))
            counts = {}
            for line in pst.stderr.splitlines():
                f = line.split(",")
                if len(f) < 4: continue
                m = re.match(r"(.*)-(\d+)$", f[0])
                if not m or int(m.group(2)) != wt: continue
                try: counts[f[3]] = float(f[1])
                except ValueError: pass
            allw = {}
            for line in pst.stderr.splitlines():
                f = line.split(",")
                if len(f) >= 4 and f[3] in ("syscalls:sys_enter_write",):
                    try:
                        if float(f[1]) > 0: allw[f[0]] = float(f[1])
                    except ValueError: pass
            tick = os.sysconf("SC_CLK_TCK")
            vol, inv = a[0] - b[0], a[1] - b[1]
            ut, stt = (a[2] - b[2]) / tick, (a[3] - b[3]) / tick
            print(f"== {t}{t_label} {sc}: {reqs} req, {rps:.0f} req/s; worker user {ut*1e6/reqs:.2f} us/req sys {stt*1e6/reqs:.2f} us/req; "
                  f"voluntary cs/req {vol/reqs:.3f} involuntary/req {inv/reqs:.3f}", flush=True)
            for k, v in counts.items():
                print(f"   {k:40} {v:12.0f} {v/reqs:8.3f}/req", flush=True)
            print("   write() by thread:", allw, flush=True)
            with open(os.path.join(out, f"perf-{t}-{sc}.txt"), "w") as fh:
                fh.write(pst.stdout + "\n" + pst.stderr)
finally:
    lab.stop_all()
