#!/usr/bin/env bash
# Regenerates scripts/lantern-extension.order: every function the collector runs, hottest first, recorded by
# callgrind while `lantern-bench overhead` and `memory` drive the layer binary (init, invocations with agent
# data, store, forwarder, an agent flood, SHUTDOWN). package-layer.sh gives the list to the linker
# (--symbol-ordering-file), which packs that code into few pages; docs/layer.md says what it saves and why.
#   scripts/package-layer.sh && swift build -c release && scripts/layer-orderfile.sh
# Environment: SCRATCH_PATH (the layer build's, default .build), BENCH (default .build/release/lantern-bench).
# Functions added since the last run land after the listed ones: the layer still links, it just packs less well.
# What real runs execute beyond this profile is found by scripts/layer-orderfile-extra.sh (root, ftrace).
set -euo pipefail
cd "$(dirname "$0")/.."

scratch="${SCRATCH_PATH:-.build}"
bench="${BENCH:-.build/release/lantern-bench}"
layer_bin="$scratch/release/lantern-extension"
order="scripts/lantern-extension.order"
for tool in valgrind python3; do
  command -v "$tool" >/dev/null || { echo "layer-orderfile: $tool is needed (apt-get install $tool)" >&2; exit 1; }
done
[ -x "$layer_bin" ] || { echo "layer-orderfile: no $layer_bin; run scripts/package-layer.sh first" >&2; exit 1; }
[ -x "$bench" ] || { echo "layer-orderfile: no $bench; run swift build -c release first" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# lantern emulate started as root runs the extension as uid 993: it must reach the binary and write its profile.
chmod 1777 "$work"
# valgrind 3.19 cannot read the DWARF Swift 6 writes; the symbol table is all the profile needs.
strip --strip-debug -o "$work/lantern-extension" "$layer_bin"
cat > "$work/callgrind-extension" <<SH
#!/bin/sh
exec valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/callgrind.%p" "$work/lantern-extension" "\$@"
SH
chmod 755 "$work/callgrind-extension"
"$bench" overhead --collector "$work/callgrind-extension" --invokes 100 --warmup 5 >/dev/null
# ...and the paths only many connections take (the memory benchmark's paced load and agent flood).
"$bench" memory --collector "$work/callgrind-extension" --rate 20 --seconds 5 --flood-requests 400 \
  --flood-concurrency 8 >/dev/null

python3 - "$work/lantern-extension" "$work"/callgrind.* > "$order.new" <<'PY'
# Self cost per function of the profiled binary, from callgrind's compressed-name format
# (`ob=(id) name`, `fn=(id) name`, later just `(id)`; cost lines follow a `fn=`).
import collections, re, subprocess, sys
binary, profiles = sys.argv[1], sys.argv[2:]
cost = collections.Counter()
for path in profiles:
    objects, functions, current_object, current = {}, {}, None, None
    after_call = False
    for line in open(path, errors="replace"):
        m = re.match(r"^(ob|fn|cob|cfn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if m:
            kind, ident, name = m.groups()
            table = objects if kind in ("ob", "cob") else functions
            if name: table[ident] = name
            if kind == "ob": current_object = objects[ident]
            if kind == "fn": current = functions[ident] if current_object == binary else None
            continue
        if line.startswith("calls="):
            after_call = True  # the next cost line is the callee's inclusive cost, not this function's
            continue
        if current and (line[:1].isdigit() or line[:1] in "+-*"):
            if not after_call:
                fields = line.split()
                if len(fields) > 1: cost[current] += int(fields[1])
            after_call = False
seen = []
for name, _ in sorted(cost.items(), key=lambda item: -item[1]):
    name = re.sub(r"'\d+$", "", name)  # callgrind's recursion-depth suffix
    if not name.startswith("0x") and name not in seen: seen.append(name)
# An async function is split into partial functions (`TY<n>_`, `TQ<n>_`), one per resumption point; which of
# them run depends on whether each await suspended, and that differs between valgrind's pace and real time.
# So every partial of an async function that ran is listed, after the rest.
partial = re.compile(r"^(.*)(TY|TQ)\d+_$")
bases = {m.group(1) for m in map(partial.match, seen) if m}
listed = set(seen)
symbols = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
for line in symbols.splitlines():
    name = line.split()[-1]
    m = partial.match(name)
    if m and m.group(1) in bases and name not in listed:
        listed.add(name)
        seen.append(name)
print("\n".join(seen))
PY
mv "$order.new" "$order"
echo "layer-orderfile: $(wc -l < "$order") functions in $order"
