#!/bin/bash
# The tail of a few keep-alive connections as a proxy's JIT settles: wrk with CONNS connections (64 B
# responses), RUNS consecutive runs of 10 s after an 8 s warm-up, each on new connections; per run the rate, p99,
# the proxy's CPU (ticks of 10 ms) and, for Sluice, the CPU its JIT compiler threads took (jit_ms). Proxy on
# CPU 1, the backend NGINX and wrk on CPU 0. A JVM pinned to one core compiles on the event loop's core, so its
# first runs show the compiler's work in the tail; the peers have none.
#
# Uses the configs a compare.sh run with an HTTPS scenario left in lb-bench/target/load (run e.g.
# `lb-bench/load/compare.sh --rounds 1 --duration 2 --warmup 2 --scenarios https_small` first).
#
#   lb-bench/load/warm_tail.sh [--targets sluice,haproxy,nginx] [--scheme http|https] [--runs N] [--conns N]
#       [--jvm-opts "..."]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$ROOT/lb-bench/target/load
TARGETS=sluice,haproxy,nginx SCHEME=http RUNS=6 CONNS=8
JV='-XX:+UseG1GC -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:Tier3DelayOn=100000'
while [ $# -gt 0 ]; do
  case $1 in
    --targets) TARGETS=$2; shift 2;; --scheme) SCHEME=$2; shift 2;; --runs) RUNS=$2; shift 2;;
    --conns) CONNS=$2; shift 2;; --jvm-opts) JV=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
# shellcheck source=one_core_lab.sh
. "$ROOT/lb-bench/load/one_core_lab.sh"
lab_start backend.conf sluice.yaml haproxy.cfg nginx-proxy.conf -- wrk nginx haproxy
for v in ${TARGETS//,/ }; do
  case $v in  # the port first: a start that fails must not leave a proxy behind
    sluice) cfg=$(grep -o "name: $SCHEME, bind: \"127.0.0.1:[0-9]*" "$W/sluice.yaml");;
    haproxy) cfg=$(awk -v f="frontend $SCHEME" '$0 == f {on = 1; next} /^(frontend|backend)/ {on = 0} on' \
      "$W/haproxy.cfg" | grep -o "bind 127.0.0.1:[0-9]*");;
    nginx) if [ "$SCHEME" = https ]; then cfg=$(grep -o "listen 127.0.0.1:[0-9]* ssl" "$W/nginx-proxy.conf" | tail -1)
      else cfg=$(sed -n '/^http {/,$p' "$W/nginx-proxy.conf" | grep -o "listen 127.0.0.1:[0-9]*;" | head -1); fi;;
    *) echo "unknown target $v" >&2; exit 2;;
  esac
  case $v in
    sluice) # shellcheck disable=SC2086
      taskset -c 1 java $JV -jar "$ROOT/lb-core/target/sluice.jar" run "$W/sluice.yaml" > "$W/warm-$v.log" 2>&1 &;;
    haproxy) taskset -c 1 haproxy -db -f "$W/haproxy.cfg" > "$W/warm-$v.log" 2>&1 &;;
    nginx) taskset -c 1 nginx -c "$W/nginx-proxy.conf" -p "$W" > "$W/warm-$v.log" 2>&1 &;;
  esac
  SP=$!
  PIDS+=($SP)
  port=$(echo "$cfg" | grep -o "127.0.0.1:[0-9]*" | cut -d: -f2)
  for _ in $(seq 150); do (echo > /dev/tcp/127.0.0.1/$port) 2> /dev/null && break; sleep 0.2; done
  taskset -c 0 wrk -t1 -c"$CONNS" -d8s "$SCHEME://127.0.0.1:$port/64" > /dev/null 2>&1   # warm-up
  for r in $(seq 1 "$RUNS"); do
    t0=$(ticks $SP); j0=$(jit $SP)
    out=$(taskset -c 0 wrk -t1 -c"$CONNS" -d10s --latency "$SCHEME://127.0.0.1:$port/64")
    t1=$(ticks $SP); j1=$(jit $SP)
    echo "$v $SCHEME c$CONNS run $r rps $(echo "$out" | awk '/Requests\/sec/{print $2}')" \
      "p50 $(echo "$out" | awk '$1=="50%"{print $2}') p99 $(echo "$out" | awk '$1=="99%"{print $2}')" \
      "proxy_cpu $((t1 - t0))/1000 jit_ms $(( (j1 - j0) / 1000000 ))"
  done
  kill $SP; wait $SP 2> /dev/null || true
done
