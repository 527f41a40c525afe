#!/bin/bash
# Two proxies measured at the same time: both on CPU 1, each loaded by a wrk of its own on CPU 0 (with the backend
# NGINX) over the same seconds; per repetition each one's CPU per request (user + system time of its process
# tree, from /proc) and the ratio B/A, then the median ratio.
#
# Why: on a shared, noisy machine (a VM whose host takes its CPU away for seconds at a time) consecutive runs of
# one proxy moved by up to 1.4x within a minute (2026-12-08), so compare.sh's rounds, which run the targets one
# after the other, cannot tell a 2-3% change from the weather. Here both proxies meet the same weather in each
# repetition. It measures CPU per request only: the two proxies share a core, so rates and latencies are not
# those of either layout of compare.sh. Run an A/A (the same build as A and B) beside an A/B to see the spread.
#
# Uses the configs a compare.sh run left in lb-bench/target/load (run e.g.
# `lb-bench/load/compare.sh --rounds 1 --duration 2 --warmup 2 --scenarios http_small` first).
#
#   lb-bench/load/side_by_side.sh --a sluice|haproxy|nginx --b sluice|haproxy|nginx [--a-jar J] [--b-jar J]
#       [--a-opts "JVM options"] [--b-opts "JVM options"] [--scenario http_small|http_close|http_post|tcp_small|
#       tcp_connect] [--reps N] [--seconds S] [--conns N (each)] [--warmup S]
# Two Sluice targets run with the same config, B's ports moved up by 1000.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
W=$ROOT/lb-bench/target/load
A=sluice B=sluice AJAR=$ROOT/lb-core/target/sluice.jar BJAR=$ROOT/lb-core/target/sluice.jar AOPTS="" BOPTS=""
SCENARIO=http_small REPS=8 SECONDS_=8 CONNS=32 WARMUP=25
JV='-XX:+UseG1GC -Xms512m -Xmx512m -XX:+AlwaysPreTouch -XX:Tier3DelayOn=100000'
while [ $# -gt 0 ]; do
  case $1 in
    --a) A=$2; shift 2;; --b) B=$2; shift 2;; --a-jar) AJAR=$2; shift 2;; --b-jar) BJAR=$2; shift 2;;
    --a-opts) AOPTS=$2; shift 2;; --b-opts) BOPTS=$2; shift 2;; --scenario) SCENARIO=$2; shift 2;;
    --reps) REPS=$2; shift 2;; --seconds) SECONDS_=$2; shift 2;; --conns) CONNS=$2; shift 2;;
    --warmup) WARMUP=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
[ "$A" = "$B" ] && [ "$A" != sluice ] && { echo "two $A processes would share one config: only Sluice can be both" >&2; exit 2; }
case $SCENARIO in
  http_small) MODE=http WRK=() URL=/64;;
  http_close) MODE=http WRK=(-H "Connection: close") URL=/64;;
  http_post) MODE=http WRK=(-s "$ROOT/lb-bench/load/post_1k.lua") URL=/post;;
  tcp_small) MODE=tcp WRK=() URL=/64;;
  tcp_connect) MODE=tcp WRK=(-H "Connection: close") URL=/64;;
  *) echo "unknown scenario $SCENARIO" >&2; exit 2;;
esac
# shellcheck source=one_core_lab.sh
. "$ROOT/lb-bench/load/one_core_lab.sh"
lab_start backend.conf sluice.yaml haproxy.cfg nginx-proxy.conf -- wrk nginx haproxy java

port_of() {  # target mode
  case $1 in
    sluice) grep -o "name: $2, bind: \"127.0.0.1:[0-9]*" "$W/sluice.yaml" | grep -o "[0-9]*$";;
    haproxy) awk -v f="frontend $2" '$0 == f {on = 1; next} /^(frontend|backend)/ {on = 0} on' "$W/haproxy.cfg" \
      | grep -o "bind 127.0.0.1:[0-9]*" | grep -o "[0-9]*$";;
    nginx) if [ "$2" = tcp ]; then sed -n '/^stream {/,/^}/p' "$W/nginx-proxy.conf" | grep -o "listen 127.0.0.1:[0-9]*;" | head -1
      else sed -n '/^http {/,$p' "$W/nginx-proxy.conf" | grep -o "listen 127.0.0.1:[0-9]*;" | head -1; fi \
      | sed 's/.*://; s/;//';;
  esac
}
start() {  # target jar opts config-suffix -> pid in STARTED
  case $1 in
    sluice) local cfg=$W/sluice$4.yaml
      if [ -n "$4" ]; then sed -E 's/127\.0\.0\.1:19([2-4])([0-9]{2})"/127.0.0.1:20\1\2"/' "$W/sluice.yaml" > "$cfg"; fi
      # shellcheck disable=SC2086
      taskset -c 1 java $JV $3 -jar "$2" run "$cfg" > "$W/side-sluice$4.log" 2>&1 &;;
    haproxy) taskset -c 1 haproxy -db -f "$W/haproxy.cfg" > "$W/side-haproxy.log" 2>&1 &;;
    nginx) taskset -c 1 nginx -c "$W/nginx-proxy.conf" -p "$W" > "$W/side-nginx.log" 2>&1 &;;
  esac
  STARTED=$!
  PIDS+=("$STARTED")
}
PA_PORT=$(port_of "$A" $MODE); PB_PORT=$(port_of "$B" $MODE)
start "$A" "$AJAR" "$AOPTS" ""; PA=$STARTED
if [ "$A" = "$B" ]; then start "$B" "$BJAR" "$BOPTS" "-b"; PB_PORT=$((PB_PORT + 1000)); else start "$B" "$BJAR" "$BOPTS" ""; fi
PB=$STARTED
for port in "$PA_PORT" "$PB_PORT"; do
  for _ in $(seq 150); do (echo > /dev/tcp/127.0.0.1/"$port") 2> /dev/null && break; sleep 0.2; done
done
load() {  # seconds: both wrk at once
  taskset -c 0 wrk -t1 -c"$CONNS" -d"$1"s "${WRK[@]}" "http://127.0.0.1:$PA_PORT$URL" > "$W/side-a.txt" 2>&1 & local a=$!
  taskset -c 0 wrk -t1 -c"$CONNS" -d"$1"s "${WRK[@]}" "http://127.0.0.1:$PB_PORT$URL" > "$W/side-b.txt" 2>&1 & local b=$!
  wait $a $b
}
requests() { awk '/requests in/ {print $1}' "$1"; }
load "$WARMUP"
echo "side by side: $SCENARIO, A $A ${AOPTS:+($AOPTS) }B $B ${BOPTS:+($BOPTS) }$CONNS connections each, $REPS x ${SECONDS_}s"
RATIOS=()
for r in $(seq 1 "$REPS"); do
  a0=$(ticks $PA); b0=$(ticks $PB)
  load "$SECONDS_"
  a1=$(ticks $PA); b1=$(ticks $PB)
  ra=$(requests "$W/side-a.txt"); rb=$(requests "$W/side-b.txt")
  if [ -z "$ra" ] || [ -z "$rb" ] || [ "$ra" = 0 ] || [ "$rb" = 0 ]; then
    # A proxy that served nothing (crashed, refused): no ratio to take; say so and what wrk said.
    echo "rep $r: no requests counted (A: ${ra:-none}, B: ${rb:-none}); wrk's output:" >&2
    tail -3 "$W/side-a.txt" "$W/side-b.txt" >&2
    continue
  fi
  line=$(awk -v ta=$((a1 - a0)) -v tb=$((b1 - b0)) -v ra="$ra" -v rb="$rb" -v s="$SECONDS_" 'BEGIN {
    a = ta * 10000 / ra; b = tb * 10000 / rb
    printf "A %.2f us/req %.0f req/s  B %.2f us/req %.0f req/s  B/A cpu %.3f", a, ra / s, b, rb / s, b / a }')
  echo "rep $r $line"
  RATIOS+=("${line##* }")
done
if [ ${#RATIOS[@]} -eq 0 ]; then
  echo "no repetition gave a ratio" >&2
  exit 1
fi
printf '%s\n' "${RATIOS[@]}" | sort -n | awk '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
  printf "median B/A cpu per request %.3f (range %.3f-%.3f over %d)\n", m, v[1], v[NR], NR}'
