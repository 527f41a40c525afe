#!/bin/bash
# Wake-ups, io_uring_enter/epoll_wait calls and user/kernel time per request of each proxy's thread, with
# compare.py's configs and the dedicated layout, in a private network namespace as compare.sh does.
# Usage: lb-bench/load/wake_counts.sh OUTDIR TARGETS SCENARIOS SECONDS [JVM OPTIONS...]
# env: EVENTS=perf events (comma-separated), WARM=10,5 (warm-up passes, s), PROFILE=1 (async-profiler on Sluice,
# attached with jcmd for each measured run; ASYNC_PROFILER_LIB), SPIN=1 (each run again with a SCHED_IDLE busy loop
# on the proxy's CPU, so the CPU never idles).
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
ulimit -n "$(ulimit -Hn)"
exec unshare --net -- bash -c 'ip link set lo up
  sysctl -q -w net.ipv4.tcp_congestion_control=cubic net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10240 65000"
  sysctl -q -w net.ipv4.ip_local_reserved_ports=19100-19499
  exec python3 "$@"' _ "$here/wake_counts.py" "$root" "$@"
