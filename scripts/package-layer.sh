#!/usr/bin/env bash
# Builds the Lambda layer: a release `lantern-extension` with the Swift runtime linked statically,
# stripped, zipped as extensions/lantern-extension (Lambda unpacks layers into /opt).
#   scripts/package-layer.sh            -> dist/lantern-extension-<arch>.zip
# Environment: SCRATCH_PATH (default .build) to keep the release build apart, DIST (default dist).
set -euo pipefail
cd "$(dirname "$0")/.."

arch="$(uname -m)"                # x86_64 or aarch64, the names Lambda's architectures map to
scratch="${SCRATCH_PATH:-.build}"
dist="${DIST:-dist}"
zip_name="lantern-extension-${arch}.zip"

# The static stdlib removes any need for a Swift toolchain in /opt. -Osize and --gc-sections trim the code;
# --no-export-dynamic undoes the stdlib's -export-dynamic, which kept every exported symbol alive (and in
# .dynsym); --icf=all folds identical functions; -no-pie resolves relocations at link time (no .rela.dyn,
# fewer pages touched at start). -function-sections (Swift) and -ffunction-sections/-fdata-sections (C, C++:
# BoringSSL) give every function its own section, so --gc-sections drops unused ones one by one rather than
# keeping a whole file's code, and the order file below can place them. Measured one at a time in docs/layer.md.
# SQLite, zlib and libdeflate are linked statically too: whether a Lambda image carries libsqlite3.so.0, libz.so.1 or libdeflate.so.0 is
# not promised anywhere, and a missing one would stop the extension (and the function's init) from starting.
# CSQLite finds SQLite through pkg-config; a sqlite3.pc whose only library folder holds the archives puts that
# folder first on the library path, so `-lsqlite3`, `-lz` and `-lstdc++` resolve to them. libstdc++ inside the
# binary is the few functions the Swift runtime and BoringSSL use (+66 KB) instead of the whole shared
# library mapped (1.1 MB of RSS). What remains dynamic is libc, libm and libgcc_s.
static_libs="$(mktemp -d)"
trap 'rm -rf "$static_libs"' EXIT
for lib in libsqlite3.a libz.a libdeflate.a libstdc++.a; do
  archive="$(gcc -print-file-name="$lib")"
  [ -f "$archive" ] || { echo "package-layer: $lib not found (apt-get install libsqlite3-dev zlib1g-dev libdeflate-dev libstdc++-12-dev)" >&2; exit 1; }
  ln -s "$archive" "$static_libs/$lib"
done
cat > "$static_libs/sqlite3.pc" <<PC
Name: SQLite
Description: SQLite, linked statically into the layer binary
Version: $(pkg-config --modversion sqlite3 2>/dev/null || echo 3)
Libs: -L$static_libs -lsqlite3 -lm
Cflags:
PC
export PKG_CONFIG_PATH="$static_libs${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# SQLite without its full-text and R*Tree modules: Debian's archive less their members, plus three init
# functions that register nothing (why: scripts/layer-sqlite-omit.c). A member left needing a removed one
# would fail the link with an undefined symbol.
rm "$static_libs/libsqlite3.a"
cp "$(gcc -print-file-name=libsqlite3.a)" "$static_libs/libsqlite3.a"
omitted="$(ar t "$static_libs/libsqlite3.a" | grep -E '^(fts3.*|fts5|rtree)\.o$' || true)"
[ -n "$omitted" ] && ar d "$static_libs/libsqlite3.a" $omitted
cc -Os -ffunction-sections -c scripts/layer-sqlite-omit.c -o "$static_libs/layer-sqlite-omit.o"
ar r "$static_libs/libsqlite3.a" "$static_libs/layer-sqlite-omit.o" 2>/dev/null

flags=(-c release --product lantern-extension --static-swift-stdlib --scratch-path "$scratch"
  -Xswiftc -Osize -Xswiftc -enforce-exclusivity=unchecked -Xswiftc -Xclang-linker -Xswiftc -no-pie -Xswiftc -Xfrontend -Xswiftc -function-sections
  -Xcc -Os -Xcc -ffunction-sections -Xcc -fdata-sections
  -Xswiftc -use-ld=lld -Xlinker -T -Xlinker "$PWD/scripts/layer-text.ld" -Xlinker --gc-sections -Xlinker --no-eh-frame-hdr -Xlinker --no-export-dynamic -Xlinker --icf=all)
# The functions the collector runs, hottest first (scripts/layer-orderfile.sh writes the list): placed
# together, the pages the kernel maps around each executed one hold more executed code, so RSS falls.
# lld, because gold ignored --section-ordering-file here; names the binary no longer has are skipped quietly.
# lantern-extension.order-extra lists what real runs execute that the profiled ones did not (found with ftrace's
# page_fault_user; see docs/layer.md): it goes after the profiled list.
order="$static_libs/lantern-extension.order"
cat scripts/lantern-extension.order scripts/lantern-extension.order-extra > "$order" 2>/dev/null || true
[ -s "$order" ] && flags+=(-Xlinker "--symbol-ordering-file=$order" -Xlinker --no-warn-symbol-ordering)
bin_dir="$(swift build "${flags[@]}" --show-bin-path)"
built="$bin_dir/lantern-extension"
rm -f "$built"  # relink every time: the build does not know that the order file is an input
swift build "${flags[@]}"

# libdeflate made it in (Package.swift uses it only where its header is installed): without it every agent
# body would take zlib's path at twice the instructions, silently.
if ! nm "$built" | grep ' libdeflate_gzip_decompress_ex$' > /dev/null; then  # not -q: an early exit fails nm under pipefail
  echo "package-layer: libdeflate is not in the binary (apt-get install libdeflate-dev, then build again)" >&2
  exit 1
fi

# The omission held: none of FTS3/4, FTS5 or R*Tree's own functions made it in.
if nm "$built" | grep -qE ' (fts5|fts3|rtree)[A-Z]'; then
  echo "package-layer: SQLite's FTS or R*Tree code is in the binary; scripts/layer-sqlite-omit.c did not take" >&2
  exit 1
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage" "$static_libs"' EXIT
mkdir -p "$stage/extensions"
# Unwind tables (.eh_frame, .eh_frame_hdr: 2.2 MB, 0.7 MB of the zip) go too. Nothing in the binary unwinds
# through them at work: Swift errors are return values, its crash backtracer needs a swift-backtrace binary the
# layer does not ship, and the C++ in it (the Swift runtime, BoringSSL) is built without exceptions. What did:
# glibc's forced unwind in pthread_exit (libdispatch's main thread) stops at the first frame without a table and
# jumps straight to the thread's exit, which is all it needed (docs/layer.md).
strip --remove-section=.eh_frame --remove-section=.eh_frame_hdr -o "$stage/extensions/lantern-extension" "$built"
chmod 755 "$stage/extensions/lantern-extension"

# The layer must not need the toolchain: no libswift*.so may remain among the dynamic dependencies.
if ldd "$stage/extensions/lantern-extension" | grep -q 'libswift'; then
  echo "package-layer: lantern-extension still links Swift runtime libraries dynamically:" >&2
  ldd "$stage/extensions/lantern-extension" >&2
  exit 1
fi

if ldd "$stage/extensions/lantern-extension" | grep -qE 'libsqlite3|libz\.so|libstdc\+\+'; then
  echo "package-layer: lantern-extension still links SQLite, zlib or libstdc++ dynamically:" >&2
  ldd "$stage/extensions/lantern-extension" >&2
  exit 1
fi

# Lambda's Amazon Linux 2023 runtimes have glibc 2.34: refuse a binary that asks for a newer symbol version.
max_glibc="${MAX_GLIBC:-2.34}"
needs_glibc="$(objdump -T "$stage/extensions/lantern-extension" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)"
if [ "$(printf '%s\n%s\n' "$needs_glibc" "$max_glibc" | sort -V | tail -1)" != "$max_glibc" ]; then
  echo "package-layer: lantern-extension needs glibc $needs_glibc, more than Lambda's $max_glibc:" >&2
  objdump -T "$stage/extensions/lantern-extension" | grep "GLIBC_$needs_glibc" >&2
  exit 1
fi

mkdir -p "$dist"
dist="$(cd "$dist" && pwd)"  # absolute: the zip below runs from the staging folder
rm -f "$dist/$zip_name"
# `zip` keeps the executable bit; fall back to Python's zipfile (which also stores Unix modes) when it is missing.
if command -v zip >/dev/null 2>&1; then
  (cd "$stage" && zip -q -9 -X -r "$dist/$zip_name" extensions)
else
  python3 - "$stage" "$dist/$zip_name" <<'PY'
import os, sys, zipfile
stage, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for root, _, files in os.walk(os.path.join(stage, "extensions")):
        for name in files:
            path = os.path.join(root, name)
            info = zipfile.ZipInfo(os.path.relpath(path, stage))
            info.external_attr = (os.stat(path).st_mode & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as f:
                z.writestr(info, f.read())
PY
fi

# advzip (Debian's advancecomp) re-encodes the deflate streams with 7-Zip's encoder: still a plain zip, 3% smaller,
# ~35 s. Optional: without it the layer is zip's -9 output.
if command -v advzip >/dev/null 2>&1; then
  advzip -q -z -3 "$dist/$zip_name"
fi

size() { stat -c %s "$1"; }
echo "package-layer: built    $built ($(size "$built") bytes)"
echo "package-layer: stripped extensions/lantern-extension ($(size "$stage/extensions/lantern-extension") bytes)"
echo "package-layer: layer    $dist/$zip_name ($(size "$dist/$zip_name") bytes)"
echo "package-layer: needs    glibc $needs_glibc (Lambda's Amazon Linux 2023 has 2.34)"
echo "package-layer: dynamic dependencies:"
ldd "$stage/extensions/lantern-extension" | sed 's/^/  /'
