# Sourced by handshake_flood.sh and warm_tail.sh: checks that a compare.sh run left its configs in $W and that
# the tools are there, starts the backend NGINX on CPU 0 (the proxies go on CPU 1), stops every process in PIDS
# on exit, and measures a process's CPU.
#   lab_start FILES... -- TOOLS...
lab_start() {
  local f t files=() tools=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do files+=("$1"); shift; done
  shift
  tools=("$@")
  for f in "${files[@]}"; do
    [ -f "$W/$f" ] || { echo "$W/$f is missing: run compare.sh with an HTTPS scenario first" >&2; exit 2; }
  done
  for t in "${tools[@]}"; do command -v "$t" > /dev/null || { echo "$t is missing (apt-get install $t)" >&2; exit 2; }; done
  PIDS=()
  trap lab_cleanup EXIT
  taskset -c 0 nginx -c "$W/backend.conf" -p "$W" > /dev/null 2>&1 &
  PIDS+=($!)
  sleep 1
}
lab_cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done; wait 2> /dev/null || true; }
# user + system ticks (10 ms) of a process and its children
ticks() { local s=0 p; for p in $1 $(pgrep -P "$1" || true); do s=$((s + $(sed 's/.*) //' /proc/$p/stat | awk '{print $12+$13}'))); done; echo $s; }
# CPU ns of a JVM's compiler threads (none for the peers)
jit() { local s=0 t; for t in /proc/$1/task/*; do case "$(cat "$t/comm" 2> /dev/null)" in
  C1\ Comp*|C2\ Comp*) s=$((s + $(cut -d' ' -f1 "$t/schedstat")));; esac; done; echo $s; }
