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

# -Osize and --gc-sections trim the binary; the static stdlib removes any need for a Swift toolchain in /opt.
swift build -c release --product lantern-extension --static-swift-stdlib --scratch-path "$scratch" \
  -Xswiftc -Osize -Xlinker --gc-sections
bin_dir="$(swift build -c release --product lantern-extension --static-swift-stdlib --scratch-path "$scratch" \
  -Xswiftc -Osize -Xlinker --gc-sections --show-bin-path)"
built="$bin_dir/lantern-extension"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/extensions"
strip -o "$stage/extensions/lantern-extension" "$built"
chmod 755 "$stage/extensions/lantern-extension"

# The layer must not need the toolchain: no libswift*.so may remain among the dynamic dependencies.
if ldd "$stage/extensions/lantern-extension" | grep -q 'libswift'; then
  echo "package-layer: lantern-extension still links Swift runtime libraries dynamically:" >&2
  ldd "$stage/extensions/lantern-extension" >&2
  exit 1
fi

mkdir -p "$dist"
rm -f "$dist/$zip_name"
# `zip` keeps the executable bit; fall back to Python's zipfile (which also stores Unix modes) when it is missing.
if command -v zip >/dev/null 2>&1; then
  (cd "$stage" && zip -q -X -r "$OLDPWD/$dist/$zip_name" extensions)
else
  python3 - "$stage" "$dist/$zip_name" <<'PY'
import os, sys, zipfile
stage, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
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

size() { stat -c %s "$1"; }
echo "package-layer: built    $built ($(size "$built") bytes)"
echo "package-layer: stripped extensions/lantern-extension ($(size "$stage/extensions/lantern-extension") bytes)"
echo "package-layer: layer    $dist/$zip_name ($(size "$dist/$zip_name") bytes)"
echo "package-layer: dynamic dependencies:"
ldd "$stage/extensions/lantern-extension" | sed 's/^/  /'
