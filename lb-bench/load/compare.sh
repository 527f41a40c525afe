#!/usr/bin/env bash
# Load comparison of Sluice with HAProxy and NGINX on this machine, all in one run.
# Usage: lb-bench/load/compare.sh [--rounds N] [--duration SECONDS] [--warmup SECONDS]
#        [--scenarios http_small,http_large,http_close,tcp_small,tcp_large,tcp_connect,idle] [--targets direct,sluice,sluice_splice,haproxy,nginx]
# Installs what it needs with apt, builds sluice.jar when missing, writes
# lb-bench/target/load/results.md, results.png and results.json. Loopback only; stops everything it started.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

need=()
for tool in haproxy nginx wrk gnuplot taskset; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || need+=("libnginx-mod-stream")
if [ ${#need[@]} -gt 0 ]; then
  pkgs=()
  for t in "${need[@]}"; do
    case "$t" in
      gnuplot) pkgs+=(gnuplot-nox) ;;
      taskset) pkgs+=(util-linux) ;;
      *) pkgs+=("$t") ;;
    esac
  done
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "${pkgs[@]}" libnginx-mod-stream >/dev/null
  # Debian starts the packaged services on install; they would compete for the CPUs being measured.
  $sudo_cmd service nginx stop >/dev/null 2>&1 || true
  $sudo_cmd service haproxy stop >/dev/null 2>&1 || true
fi

if [ ! -f "$root/lb-core/target/sluice.jar" ]; then
  (cd "$root" && ./mvnw -B -q -DskipTests package)
fi
ulimit -n "$(ulimit -Hn)"
# The connection-per-request scenario opens ~100k connections a minute through every proxy; without
# TIME_WAIT reuse and a wide port range the kernel runs out of ports and connects fail for whoever runs last.
if [ "$(id -u)" -eq 0 ]; then
  sysctl -q -w net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10240 65000" || true
fi
exec python3 "$here/compare.py" --root "$root" "$@"
