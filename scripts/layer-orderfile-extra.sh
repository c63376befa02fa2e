#!/usr/bin/env bash
# Appends to scripts/lantern-extension.order-extra the functions a real (unprofiled) run of the layer binary
# executes outside the ordered code: paths that callgrind's slow pace never takes (a Deque growing under a
# burst, the forwarder dropping under a flood), and symbols valgrind names differently. ftrace's
# page_fault_user event gives each instruction-fetch fault's address; the function there joins the list; the
# layer is relinked and the run repeated until a round finds nothing new (each fault maps a whole window, so
# one round sees one function per window). Needs root (tracefs) and lantern-bench (swift build -c release).
#   scripts/layer-orderfile-extra.sh [rounds, default 4]
# Environment: SCRATCH_PATH (the layer build's, default .build), BENCH (default .build/release/lantern-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds="${1:-4}"
scratch="${SCRATCH_PATH:-.build}"
bench="${BENCH:-.build/release/lantern-bench}"
tracing=/sys/kernel/tracing
extra=scripts/lantern-extension.order-extra
[ -w "$tracing/trace" ] || { echo "layer-orderfile-extra: needs root and tracefs at $tracing" >&2; exit 1; }
[ -x "$bench" ] || { echo "layer-orderfile-extra: no $bench; run swift build -c release first" >&2; exit 1; }
touch "$extra"
work="$(mktemp -d)"
trap 'echo 0 > "$tracing/events/exceptions/page_fault_user/enable"; rm -rf "$work"' EXIT
chmod 755 "$work"

for round in $(seq 1 "$rounds"); do
  SCRATCH_PATH="$scratch" scripts/package-layer.sh >/dev/null
  rm -rf "$work/layer" && mkdir "$work/layer" && (cd "$work/layer" && unzip -q "$OLDPWD/dist/lantern-extension-$(uname -m).zip")
  chmod -R go+rX "$work/layer"
  nm -n -S --defined-only "$scratch/release/lantern-extension" | awk 'NF==4 && $3 ~ /[tTwW]/' > "$work/symbols"
  echo 1 > "$tracing/options/record-tgid"
  echo > "$tracing/trace"
  echo 1 > "$tracing/events/exceptions/page_fault_user/enable"
  "$bench" memory --collector "$work/layer/extensions/lantern-extension" --seconds 8 --flood-requests 2000 >/dev/null &
  bench_pid=$!
  pid=""
  for _ in $(seq 1 100); do pid="$(pgrep -x lantern-extensi | head -1 || true)"; [ -n "$pid" ] && break; sleep 0.1; done
  wait "$bench_pid"
  echo 0 > "$tracing/events/exceptions/page_fault_user/enable"
  [ -n "$pid" ] || { echo "layer-orderfile-extra: the extension never started" >&2; exit 1; }
  grep -E "\(\s*$pid\)" "$tracing/trace" > "$work/faults" || true
  added="$(python3 - "$work/symbols" "$work/faults" scripts/lantern-extension.order "$extra" <<'PY'
import re, sys
symbols_path, faults_path, order_path, extra_path = sys.argv[1:]
rows = sorted((int(a, 16), int(s, 16), n) for a, s, _, n in (line.split() for line in open(symbols_path)))
known = {l.strip() for path in (order_path, extra_path) for l in open(path) if l.strip()}
where = {n: (a, s) for a, s, n in rows}
ordered_end = max(where[n][0] + where[n][1] for n in known if n in where)
added = []
for line in open(faults_path):
    m = re.search(r"address=0x([0-9a-f]+) ip=0x[0-9a-f]+ error_code=0x([0-9a-f]+)", line)
    if not m or not int(m.group(2), 16) & 0x10: continue       # instruction fetches only
    address = int(m.group(1), 16)
    if address < ordered_end: continue
    starts = [a for a, s, n in rows if a <= address < a + s]
    if not starts: continue
    for a, s, n in rows:
        if a == min(starts) and n not in known:
            added.append(n); known.add(n)
with open(extra_path, "a") as f:
    f.writelines(n + "\n" for n in added)
print(len(added))
PY
)"
  echo "layer-orderfile-extra: round $round added $added"
  [ "$added" = 0 ] && break
done
SCRATCH_PATH="$scratch" scripts/package-layer.sh >/dev/null
echo "layer-orderfile-extra: $(wc -l < "$extra") functions in $extra"
