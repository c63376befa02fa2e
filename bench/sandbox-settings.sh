#!/bin/sh
# lantern-bench's overhead, coldstart and shutdown, back to back, each with lantern emulate's defaults (the
# runtime and extensions frozen while they wait in `next`; run as uid 993 / gid 990 when started as root) and
# with --no-freeze --keep-root (the emulator before 2026-12-07). Console output to
# bench/results/<date>-sandbox.md, the results to bench/results/<date>-sandbox.json.
#
#   bench/sandbox-settings.sh [path/to/lantern-bench]   (default .build/release/lantern-bench; build every product)
#
# Counts: OVERHEAD_INVOKES (200), COLDSTART_STARTS (20), SHUTDOWN_RUNS (10), as lantern-bench all uses.
set -eu
bench=${1:-.build/release/lantern-bench}
invokes=${OVERHEAD_INVOKES:-200}
starts=${COLDSTART_STARTS:-20}
runs=${SHUTDOWN_RUNS:-10}
date=$(date -u +%Y-%m-%dT%H%MZ)
out=bench/results/$date-sandbox
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p bench/results

{
    echo "## Sandbox settings ($date)"
    echo
    echo "Machine: $(nproc) cores, $(uname -sr), run as uid $(id -u), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start."
    echo "\`bench/sandbox-settings.sh $bench\`:"
    echo
    echo '```'
} > "$out.md"

# Scenario by scenario, the two settings one after the other: this VM's speed drifts over minutes.
for scenario in overhead coldstart shutdown; do
    case $scenario in
        overhead) count="--invokes $invokes" ;;
        coldstart) count="--starts $starts" ;;
        shutdown) count="--runs $runs" ;;
    esac
    for setting in default old; do
        case $setting in
            default) flags="" ;;
            old) flags="--no-freeze --keep-root" ;;
        esac
        # shellcheck disable=SC2086
        set -- "$bench" $scenario $count $flags --json "$tmp/$setting-$scenario.json"
        echo "\$ lantern-bench $scenario $count $flags" | sed 's/ *$//' | tee -a "$out.md"
        "$@" 2>&1 | tee -a "$out.md"
        [ -s "$tmp/$setting-$scenario.json" ] || { echo "lantern-bench $scenario $flags failed" >&2; exit 1; }
        echo | tee -a "$out.md"
    done
done
echo '```' >> "$out.md"
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)." >> "$out.md"

python3 - "$tmp" "$out.json" "$date" <<'PY'
import json, os, sys
tmp, out, date = sys.argv[1:]
report = {"date": date, "uid": os.getuid()}
for setting in ("default", "old"):
    report[setting] = {s: json.load(open(f"{tmp}/{setting}-{s}.json")) for s in ("overhead", "coldstart", "shutdown")}
report["default"]["flags"] = ""
report["old"]["flags"] = "--no-freeze --keep-root"
json.dump(report, open(out, "w"), indent=2, sort_keys=True)
PY
echo "wrote $out.md and $out.json"
