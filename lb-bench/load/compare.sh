#!/usr/bin/env bash
# Load comparison of Sluice with HAProxy and NGINX on this machine, all in one run.
# Usage: lb-bench/load/compare.sh [--rounds N] [--duration SECONDS] [--warmup SECONDS] [--warmup-passes N]
#        [--scenarios http_small,http_large,http_close,tcp_small,tcp_large,tcp_connect,https_small,https_handshake,
#                     h2_small,grpc_unary,idle]
#        [--targets direct,sluice,sluice_splice,sluice_jdk,haproxy,nginx]
#        [--tls-resumption off|on]   (off: https_handshake is a full TLS handshake per request; on: resumed, as wrk offers)
#        (also --scenarios http_reload,tcp_reload: the proxy reloaded every second under load; not in the default run)
#        [--congestion-control cubic|bbr|reno|host] [--peer-buffers 256k|64k|default]
#        [--layout dedicated|shared-core]   (dedicated: proxy on CPU 1, wrk + backends on CPU 0; shared-core: proxy
#                                           and backends share CPU 1, wrk alone on CPU 0)
#        [--sluice-jvm-opts='-Xms64m -Xmx512m']     (JVM options of the sluice targets)
#        [--sluice-variant 'NAME=JVM OPTIONS']...   (one more Sluice, target sluice:NAME, with these JVM options;
#                                                   a first word that is a path names the java to run)
#        [--profile --profiler-lib PATH/libasyncProfiler.so]   (one more run per scenario and Sluice target with
#                                                   async-profiler attached: collapsed stacks and a flame graph)
# Installs what it needs with apt, builds sluice.jar when missing, writes
# lb-bench/target/load/results.md, results.png and results.json. Loopback only; stops everything it started.
#
# As root, everything runs in a private network namespace (its own loopback) with the TCP congestion control
# named by --congestion-control (cubic, Linux's default, unless told otherwise), so that the host's setting
# does not decide the result: BBR paces every loopback flow and caps one connection near 2 GB/s, proxied or
# not. `host` runs in the host's namespace with whatever it has configured.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

cc=cubic
cc_given=false
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --congestion-control) cc="${2:?--congestion-control needs a value}"; cc_given=true; shift 2 ;;
    --congestion-control=*) cc="${1#*=}"; cc_given=true; shift ;;
    *) args+=("$1"); shift ;;
  esac
done

need=()
for tool in haproxy nginx wrk h2load curl gnuplot taskset unshare ip openssl; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || need+=("libnginx-mod-stream")
if [ ${#need[@]} -gt 0 ]; then
  pkgs=()
  for t in "${need[@]}"; do
    case "$t" in
      gnuplot) pkgs+=(gnuplot-nox) ;;
      taskset|unshare) pkgs+=(util-linux) ;;
      ip) pkgs+=(iproute2) ;;
      h2load) pkgs+=(nghttp2-client) ;;
      *) pkgs+=("$t") ;;
    esac
  done
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "${pkgs[@]}" libnginx-mod-stream >/dev/null
  # Debian starts the packaged services on install; they would compete for the CPUs being measured.
  $sudo_cmd service nginx stop >/dev/null 2>&1 || true
  $sudo_cmd service haproxy stop >/dev/null 2>&1 || true
fi

# benchmarks.jar carries the gRPC server of grpc_unary.
if [ ! -f "$root/lb-core/target/sluice.jar" ] || [ ! -f "$root/lb-bench/target/benchmarks.jar" ]; then
  (cd "$root" && ./mvnw -B -q -DskipTests package)
fi
ulimit -n "$(ulimit -Hn)"
# The connection-per-request scenario opens ~100k connections a minute through every proxy; without
# TIME_WAIT reuse and a wide port range the kernel runs out of ports and connects fail for whoever runs last.
# Both settings belong to the network namespace: in a private one they vanish with it, in the host's
# (`host`, or no namespace possible) they are set as root and stay set.
# The wide range takes in the harness's own ports (19100-19499: backends, proxies, --sluice-variant Sluices), which
# any client socket on the machine could then hold when a listener binds: they are reserved (added to what is
# reserved already).
tune_tcp='sysctl -q -w net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10240 65000" || true
  reserved=$(cat /proc/sys/net/ipv4/ip_local_reserved_ports 2>/dev/null || true)
  sysctl -q -w net.ipv4.ip_local_reserved_ports="${reserved:+$reserved,}19100-19499" || true'
# The loopback routes' own congestion control (`ip route ... congctl`), which every connection over them uses
# instead of the namespace's default: the way to the wanted algorithm where the sysctl is refused even inside a
# private namespace (a container's read-only /proc/sys), as on the machines these runs are made on.
route_cc='ip route replace local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 congctl "$1" &&
  ip route replace local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1 congctl "$1" &&
  { ip -6 route replace local ::1 dev lo table local proto kernel metric 0 congctl "$1" 2>/dev/null || true; }'
cc_by=sysctl
if [ "$cc" != host ]; then
  # A trial namespace with the wanted algorithm: unshare may be refused (not root, no CAP_SYS_ADMIN in a
  # container) and so may the sysctl (a read-only /proc/sys, an algorithm the kernel lacks).
  if ! why=$(unshare --net sysctl -q -w net.ipv4.tcp_congestion_control="$cc" 2>&1); then
    if unshare --net -- bash -c 'ip link set lo up && '"$route_cc" _ "$cc" >/dev/null 2>&1; then
      cc_by=route
    else
      why="${why:-unshare refused (needs root, or CAP_SYS_ADMIN in a container)}"
      if $cc_given; then
        echo "compare.sh: cannot run with congestion control \"$cc\" in a private network namespace: $why" \
          "(available: $(cat /proc/sys/net/ipv4/tcp_available_congestion_control))" >&2
        exit 2
      fi
      echo "compare.sh: no private network namespace with $cc ($why): running in this one, with its TCP" \
        "settings; the report names the congestion control that applied" >&2
      cc=host
    fi
  fi
fi
if [ "$cc" = host ]; then
  [ "$(id -u)" -eq 0 ] && eval "$tune_tcp"
  exec python3 "$here/compare.py" --root "$root" "${args[@]}"
elif [ "$cc_by" = route ]; then
  # The namespace's sysctls are refused too, so its defaults apply: TIME_WAIT reuse on loopback (2) and the
  # ports 32768-60999, below which the harness's own ports lie.
  exec unshare --net -- bash -c '
    set -e
    ip link set lo up
    '"$route_cc"'
    shift
    exec python3 "$@"' _ "$cc" "$here/compare.py" --root "$root" --private-netns --route-congestion-control "$cc" "${args[@]}"
else
  exec unshare --net -- bash -c '
    set -e
    ip link set lo up
    sysctl -q -w net.ipv4.tcp_congestion_control="$1"
    '"$tune_tcp"'
    shift
    exec python3 "$@"' _ "$cc" "$here/compare.py" --root "$root" --private-netns "${args[@]}"
fi
