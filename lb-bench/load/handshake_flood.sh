#!/bin/bash
# The latency of established HTTPS connections while new ones flood in: wrk keeps 8 keep-alive connections
# busy (64 B responses) for SECONDS, first alone ("quiet"), then beside hello_flood.py, whose FLOOD connections
# each send one ClientHello, wait for the server's first flight and close (the proxy computes a full key
# exchange and signature per connection, the client almost nothing). Proxy on CPU 1; the backend NGINX, wrk and
# the flood on CPU 0. Prints one line per target, round and mode: wrk's rate, p50 and p99, the proxy's CPU
# (ticks of 10 ms over the measured seconds), the CPU of a JVM's compiler threads (jit_ms) and the flood's
# answered ClientHellos per second.
#
# Uses the configs and certificate a compare.sh run with an HTTPS scenario left in lb-bench/target/load (run
# e.g. `lb-bench/load/compare.sh --rounds 1 --duration 2 --warmup 2 --scenarios https_small` first).
#
#   lb-bench/load/handshake_flood.sh [--rounds N] [--targets sluice,haproxy,nginx,sluice-b] [--seconds S]
#       [--flood N] [--warmup S] [--jar-b PATH] [--jvm-opts "..."]
# sluice-b is a second Sluice build (--jar-b) measured in the same rounds, for A/Bs. --warmup (8 s by default)
# is the length of each of the two warm-ups (wrk alone, then the flood alone); a JVM on one core is still
# compiling after 8 + 8 s (docs/bench/measurements-2026-12-07-warmup-tail.md), so give 30 or more for its
# steady state.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$ROOT/lb-bench/target/load
ROUNDS=3 TARGETS=sluice,haproxy,nginx SECS=10 FLOOD=32 JAR_B="" WARMUP=8
JV='-XX:+UseG1GC -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:Tier3DelayOn=100000'
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2;; --targets) TARGETS=$2; shift 2;; --seconds) SECS=$2; shift 2;;
    --flood) FLOOD=$2; shift 2;; --warmup) WARMUP=$2; shift 2;; --jar-b) JAR_B=$2; shift 2;; --jvm-opts) JV=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
# shellcheck source=one_core_lab.sh
. "$ROOT/lb-bench/load/one_core_lab.sh"
lab_start backend.conf sluice.yaml haproxy.cfg nginx-proxy.conf tls-cert.pem -- wrk nginx haproxy python3
https_port() { grep -o "name: https, bind: \"127.0.0.1:[0-9]*" "$1" | grep -o "[0-9]*$"; }
for r in $(seq 1 "$ROUNDS"); do
  for v in ${TARGETS//,/ }; do
    case $v in
      sluice|sluice-b)
        jar=$ROOT/lb-core/target/sluice.jar
        if [ $v = sluice-b ]; then jar=$JAR_B; sed 's/"127.0.0.1:192\([0-9][0-9]\)"/"127.0.0.1:194\1"/' "$W/sluice.yaml" > "$W/sluice-b-flood.yaml"; fi
        cfg=$W/sluice.yaml; [ $v = sluice-b ] && cfg=$W/sluice-b-flood.yaml
        # shellcheck disable=SC2086
        taskset -c 1 java $JV -jar "$jar" run "$cfg" > "$W/flood-$v.log" 2>&1 &
        port=$(https_port "$cfg");;
      haproxy) taskset -c 1 haproxy -db -f "$W/haproxy.cfg" > "$W/flood-$v.log" 2>&1 &
        port=$(grep -o "bind 127.0.0.1:[0-9]* ssl" "$W/haproxy.cfg" | grep -o "[0-9]*" | tail -1);;
      nginx) taskset -c 1 nginx -c "$W/nginx-proxy.conf" -p "$W" > "$W/flood-$v.log" 2>&1 &
        port=$(grep -o "listen 127.0.0.1:[0-9]* ssl" "$W/nginx-proxy.conf" | grep -o "[0-9]*" | tail -1);;
      *) echo "unknown target $v" >&2; exit 2;;
    esac
    SP=$!
    PIDS+=($SP)
    for _ in $(seq 150); do (echo > /dev/tcp/127.0.0.1/$port) 2> /dev/null && break; sleep 0.2; done
    taskset -c 0 wrk -t1 -c8 -d"${WARMUP}s" https://127.0.0.1:$port/64 > /dev/null 2>&1   # warm-up
    taskset -c 0 python3 "$ROOT/lb-bench/load/hello_flood.py" 127.0.0.1 $port "$WARMUP" "$FLOOD" 2> /dev/null
    for mode in quiet flood; do
      flood=""
      if [ $mode = flood ]; then
        taskset -c 0 python3 "$ROOT/lb-bench/load/hello_flood.py" 127.0.0.1 $port $((SECS + 2)) "$FLOOD" 2> "$W/flood.txt" &
        FP=$!
        sleep 1
      fi
      t0=$(ticks $SP); j0=$(jit $SP)
      out=$(taskset -c 0 wrk -t1 -c8 -d${SECS}s --latency https://127.0.0.1:$port/64)
      t1=$(ticks $SP); j1=$(jit $SP)
      if [ $mode = flood ]; then wait $FP; flood=$(cat "$W/flood.txt"); fi
      echo "round $r $v $mode rps $(echo "$out" | awk '/Requests\/sec/{print $2}')" \
        "p50 $(echo "$out" | awk '$1=="50%"{print $2}') p99 $(echo "$out" | awk '$1=="99%"{print $2}')" \
        "proxy_cpu $((t1 - t0))/$((SECS * 100)) jit_ms $(( (j1 - j0) / 1000000 )) $flood"
    done
    kill $SP; wait $SP 2> /dev/null || true
  done
done
