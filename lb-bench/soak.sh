#!/usr/bin/env bash
# Soak run: lb-bench/soak.sh [--minutes 10] [--warmup 120] [--out docs/soak]
# Mixed HTTP and TCP load through one Sluice for --minutes, with a reload every 30 s, a server killed with
# SIGKILL every 45 s (restarted 10 s later), and slow clients (slowloris and non-readers) all along. Samples RSS,
# Netty direct memory, heap after GC, file descriptors, threads and HTTP p99 every 5 s, and writes a table, a
# TSV and a PNG plot to docs/soak/ (soak-DATE.*). Exit 0 when every series is flat after warm-up and no HTTP
# request was lost. Loopback only; stops everything it started. Installs wrk, nginx and gnuplot with apt when
# missing (as root), and builds sluice.jar when missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
need=()
for tool in wrk nginx gnuplot jcmd; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
if [ ${#need[@]} -gt 0 ]; then
  pkgs=()
  for t in "${need[@]}"; do
    case "$t" in
      gnuplot) pkgs+=(gnuplot-nox) ;;
      jcmd) echo "jcmd (part of the JDK) is not on PATH" >&2; exit 2 ;;
      *) pkgs+=("$t") ;;
    esac
  done
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}"
fi
if [ ! -f "$root/lb-core/target/sluice.jar" ]; then
  (cd "$root" && ./mvnw -B -q -DskipTests package -pl lb-core -am)
fi
exec python3 "$here/soak/soak.py" "$@"
