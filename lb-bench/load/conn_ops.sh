#!/usr/bin/env bash
# Kernel work per proxied connection (see conn_ops.py): conn_ops.sh OUTDIR ['NAME=JVM OPTIONS'...]
# Runs in a private network namespace with compare.sh's TCP settings (its own loopback, so that no other run's
# sockets or TIME_WAITs are counted), under /tmp/bench.lock so that no other load measurement overlaps.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out=$1; shift
mkdir -p "$out"
ulimit -n "$(ulimit -Hn)"
exec flock /tmp/bench.lock unshare --net -- bash -c '
  ip link set lo up
  sysctl -q -w net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10240 65000"
  sysctl -q -w net.ipv4.ip_local_reserved_ports="19100-19499"
  exec python3 "$@"' _ "$here/conn_ops.py" "$root" "$out" "$@"
