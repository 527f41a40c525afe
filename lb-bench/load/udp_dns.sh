#!/usr/bin/env bash
# DNS over UDP through Sluice and NGINX's stream proxy (and straight to the server, as the ceiling), with dnsperf
# against one dnsmasq.
# Usage: lb-bench/load/udp_dns.sh [--rounds N] [--duration SECONDS] [--outstanding N] [--transport auto|nio|epoll|io_uring]
#                                 [--jvm-opts "OPTS"] [--sluice-b "OPTS"]
# --jvm-opts: the Sluice JVM's options; --sluice-b: a second Sluice, the same jar with these JVM options, measured as
# target sluice_b in the same rounds (an A/B of one property, say -Dsluice.udp.bareFlows=false).
# Each proxy runs on one event loop / worker pinned to CPU 1; dnsperf and dnsmasq share CPU 0. Rounds interleave
# the targets. Reports queries per second and the proxy's CPU per query (utime+stime from /proc of the proxy's
# process, the JVM or NGINX's worker, over the measured window), and both as ratios to NGINX.
# Needs: dnsperf, dnsmasq (dnsmasq-base), nginx + libnginx-mod-stream, java, taskset (util-linux).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rounds=3
duration=10
outstanding=200
transport=auto
jvm_opts=""
sluice_b=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --outstanding) outstanding="$2"; shift 2 ;;
    --transport) transport="$2"; shift 2 ;;
    --jvm-opts) jvm_opts="$2"; shift 2 ;;
    --sluice-b) sluice_b="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for tool in dnsperf dnsmasq nginx java taskset; do
  command -v "$tool" >/dev/null || { echo "udp_dns.sh: needs $tool" >&2; exit 2; }
done
[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || { echo "udp_dns.sh: needs libnginx-mod-stream" >&2; exit 2; }
[ -f "$root/lb-core/target/sluice.jar" ] || (cd "$root" && ./mvnw -B -q -DskipTests package)

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

backend=19301; sluice_port=19302; nginx_port=19303
taskset -c 0 dnsmasq --no-daemon --port=$backend --listen-address=127.0.0.1 --bind-interfaces --no-resolv \
  --no-hosts --conf-file=/dev/null --pid-file= --cache-size=0 --host-record=x.test,10.0.0.1 \
  >"$work/dnsmasq.log" 2>&1 &
pids+=($!)

sluice_b_port=19304
# start_sluice NAME PORT JVM-OPTS: prints the JVM's pid
start_sluice() {
  cat >"$work/$1.yaml" <<YAML
runtime: { transport: $transport, worker_threads: 1 }
admin: { enabled: false }
listeners:
  - { name: dns, bind: "127.0.0.1:$2", protocol: udp, cluster: dns,
      udp: { idle_timeout: 30s, responses_per_request: 1 } }
clusters:
  - { name: dns, servers: [ { address: "127.0.0.1:$backend" } ] }
YAML
  # shellcheck disable=SC2086
  taskset -c 1 java $3 -jar "$root/lb-core/target/sluice.jar" run "$work/$1.yaml" >"$work/$1.log" 2>&1 &
  echo $!
}
sluice_pid="$(start_sluice sluice $sluice_port "$jvm_opts")"
pids+=($sluice_pid)
targets="direct sluice nginx"
ports="$backend $sluice_port $nginx_port"
if [ -n "$sluice_b" ]; then
  sluice_b_pid="$(start_sluice sluice_b $sluice_b_port "$jvm_opts $sluice_b")"
  pids+=($sluice_b_pid)
  targets="direct sluice sluice_b nginx"
  ports="$ports $sluice_b_port"
fi

cat >"$work/nginx.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
stream {
    upstream dns { server 127.0.0.1:$backend; }
    server {
        listen 127.0.0.1:$nginx_port udp reuseport;
        proxy_pass dns;
        proxy_responses 1;
        proxy_timeout 30s;
    }
}
CONF
taskset -c 1 nginx -c "$work/nginx.conf" -p "$work" >"$work/nginx.log" 2>&1 &
nginx_master=$!
pids+=($nginx_master)

printf 'x.test A\n' >"$work/queries"
for port in $ports; do
  # A closed port answers at once (ICMP), so the JVMs' start is waited out with sleeps: up to 60 s.
  for i in $(seq 1 120); do
    dig @127.0.0.1 -p $port x.test +short +tries=1 +time=1 2>/dev/null | grep -q 10.0.0.1 && break
    [ "$i" = 120 ] && { echo "no answer on $port"; cat "$work"/*.log; exit 1; }
    sleep 0.5
  done
done
nginx_pid="$(pgrep -P "$nginx_master" | head -1)"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz="$(getconf CLK_TCK)"

# prints "qps cpu_seconds_per_query" for one run against port $1, CPU of pid $2 (none for the direct run)
run() {
  local port="$1" pid="${2:-}" before after out
  [ -n "$pid" ] && before="$(cpu_ticks "$pid")"
  out="$(taskset -c 0 dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries" -l "$duration" -c 4 -q "$outstanding" 2>&1)"
  [ -n "$pid" ] && after="$(cpu_ticks "$pid")"
  local qps completed lost
  qps="$(awk '/Queries per second/ {print $4}' <<<"$out")"
  completed="$(awk '/Queries completed/ {print $3}' <<<"$out")"
  lost="$(awk '/Queries lost/ {print $3}' <<<"$out")"
  if [ -n "$pid" ]; then
    echo "$qps $(awk -v t=$((after - before)) -v hz="$hz" -v n="$completed" 'BEGIN {printf "%.3f", t / hz / n * 1e6}') $lost"
  else
    echo "$qps - $lost"
  fi
}

# Warm-up: the JIT, NGINX's caches, dnsmasq.
duration_saved=$duration; duration=5
run $sluice_port "$sluice_pid" >/dev/null; run $nginx_port "$nginx_pid" >/dev/null
[ -z "$sluice_b" ] || run $sluice_b_port "$sluice_b_pid" >/dev/null
duration=$duration_saved

echo "# udp_dns: dnsperf -c 4 -q $outstanding -l $duration, $rounds rounds; qps, proxy CPU µs/query, lost"
declare -A qps cpu
for r in $(seq 1 "$rounds"); do
  for target in $targets; do
    case $target in
      direct) res="$(run $backend)" ;;
      sluice) res="$(run $sluice_port "$sluice_pid")" ;;
      sluice_b) res="$(run $sluice_b_port "$sluice_b_pid")" ;;
      nginx) res="$(run $nginx_port "$nginx_pid")" ;;
    esac
    echo "round $r $target: $res"
    qps[$target]="${qps[$target]:-} $(cut -d' ' -f1 <<<"$res")"
    cpu[$target]="${cpu[$target]:-} $(cut -d' ' -f2 <<<"$res")"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
sq="$(median <<<"${qps[sluice]}")"; nq="$(median <<<"${qps[nginx]}")"; dq="$(median <<<"${qps[direct]}")"
sc="$(median <<<"${cpu[sluice]}")"; nc="$(median <<<"${cpu[nginx]}")"
echo
echo "| target | queries/s (median) | proxy CPU µs/query (median) |"
echo "|---|---|---|"
echo "| direct (dnsperf -> dnsmasq) | $dq | - |"
echo "| sluice | $sq | $sc |"
if [ -n "$sluice_b" ]; then
  bq="$(median <<<"${qps[sluice_b]}")"; bc="$(median <<<"${cpu[sluice_b]}")"
  echo "| sluice_b ($sluice_b) | $bq | $bc |"
fi
echo "| nginx stream | $nq | $nc |"
echo
awk -v sq="$sq" -v nq="$nq" -v sc="$sc" -v nc="$nc" \
  'BEGIN {printf "Sluice / NGINX: %.2fx the queries per second, %.2fx the CPU per query\n", sq / nq, sc / nc}'
if [ -n "$sluice_b" ]; then
  awk -v sq="$sq" -v bq="$bq" -v sc="$sc" -v bc="$bc" \
    'BEGIN {printf "Sluice / sluice_b: %.2fx the queries per second, %.2fx the CPU per query\n", sq / bq, sc / bc}'
fi
