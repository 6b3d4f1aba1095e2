#!/usr/bin/env bash
# Build the Functions app package in dist/ (for `func start` and zip deploy).
#
#   scripts/deploy/package.sh          build the handler, lay out dist/, check it
#   scripts/deploy/package.sh --zip    ... and also write dist.zip (executable bit kept)
#
# dist/ afterwards holds exactly:
#   host.json
#   <FunctionName>/function.json     one folder per folder in functions/
#   handler                          the release binary, mode 755
#
# Environment (all optional):
#   CARGO              cargo command to run (default: cargo), e.g. "cross"
#   CARGO_SUBCOMMAND   cargo subcommand that builds (default: build), e.g. "zigbuild"
#                      (scripts/deploy/package-linux.sh uses cargo-zigbuild for an old-glibc target)
#   CARGO_ARGS         extra arguments for `cargo build`, word-split, e.g. "--locked"
#   CARGO_BUILD_TARGET target triple, read by cargo itself,
#                      e.g. x86_64-unknown-linux-musl for Azure
#   HANDLER_BIN        use this prebuilt binary and skip the cargo build
#                      (a relative path is taken from the caller's directory)
#   SKIP_CHECK=1       skip scripts/ci/check_function_config.py on dist/
#   SOURCE_DATE_EPOCH  timestamp for the zip entries (default 1980-01-01)
#
# Works from any directory; dist/ and dist.zip are always at the repository root,
# and cargo runs there (so a relative CARGO_TARGET_DIR is relative to the root).
# Every run deletes the previous dist/ and dist.zip first.
set -euo pipefail

CALLER_PWD="$PWD"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

DIST="$ROOT/dist"
ZIP="$ROOT/dist.zip"
MAKE_ZIP=0

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --zip) MAKE_ZIP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "package.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "package.sh: $*" >&2; exit 1; }

command -v python3 >/dev/null 2>&1 || die "python3 is required"
[[ -f host.json ]] || die "host.json not found in $ROOT"
[[ -d functions ]] || die "functions/ not found in $ROOT"

# 1. The handler binary.
if [[ -n "${HANDLER_BIN:-}" ]]; then
  BIN="$HANDLER_BIN"
  [[ "$BIN" == /* ]] || BIN="$CALLER_PWD/$BIN"
  echo "package.sh: using prebuilt handler $BIN (HANDLER_BIN set, no cargo build)"
else
  CARGO="${CARGO:-cargo}"
  CARGO_SUBCOMMAND="${CARGO_SUBCOMMAND:-build}"
  # shellcheck disable=SC2206 # CARGO_ARGS is meant to be word-split.
  extra_args=(${CARGO_ARGS:-})
  echo "package.sh: $CARGO $CARGO_SUBCOMMAND --release -p handler --bin handler ${extra_args[*]:-}" \
    "${CARGO_BUILD_TARGET:+(target $CARGO_BUILD_TARGET)}"
  # Ask cargo where it put the executable instead of guessing the target dir:
  # that honours CARGO_TARGET_DIR, CARGO_BUILD_TARGET and .cargo/config.toml.
  # Diagnostics still go to stderr; stdout carries only the JSON messages.
  BIN="$(
    "$CARGO" "$CARGO_SUBCOMMAND" --release -p handler --bin handler \
      --message-format=json-render-diagnostics "${extra_args[@]}" |
      python3 -c '
import json, sys
exe = ""
for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("reason") == "compiler-artifact" and msg.get("executable") \
            and msg.get("target", {}).get("name") == "handler":
        exe = msg["executable"]
print(exe)
'
  )"
  [[ -n "$BIN" ]] || die "cargo did not report a 'handler' executable"
fi
[[ -f "$BIN" ]] || die "handler binary not found: $BIN"

# 2. A fresh dist/.
rm -rf -- "$DIST" "$ZIP"
mkdir -p -- "$DIST"
cp -- host.json "$DIST/host.json"

count=0
for dir in functions/*/; do
  [[ -d "$dir" ]] || continue
  name="$(basename "$dir")"
  [[ -f "$dir/function.json" ]] || die "functions/$name has no function.json"
  mkdir -p -- "$DIST/$name"
  cp -- "$dir/function.json" "$DIST/$name/function.json"
  count=$((count + 1))
done
[[ $count -gt 0 ]] || die "no function folders in functions/"

cp -- "$BIN" "$DIST/handler"
chmod 755 "$DIST/handler"
find "$DIST" -type d -exec chmod 755 {} +
find "$DIST" -type f -name '*.json' -exec chmod 644 {} +
echo "package.sh: dist/ has host.json, handler and $count function(s)"

# 3. Check what will be deployed.
if [[ "${SKIP_CHECK:-0}" != "1" ]]; then
  python3 "$ROOT/scripts/ci/check_function_config.py" --root "$DIST"
fi

# 4. Optional zip for zip deploy. `zip` may be absent and would not be
#    reproducible anyway: write it with zipfile, Unix modes in external_attr.
if [[ $MAKE_ZIP -eq 1 ]]; then
  python3 - "$DIST" "$ZIP" <<'PY'
import os
import stat
import sys
import time
import zipfile

dist, out = sys.argv[1], sys.argv[2]
epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))  # 1980-01-01
stamp = time.gmtime(max(epoch, 315532800))[:6]

def entry(name, mode):
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.create_system = 3  # Unix, so extractors apply the mode bits
    info.external_attr = mode << 16
    return info

paths = []
for top, dirs, files in os.walk(dist):
    dirs.sort()
    for f in sorted(files):
        if f == "local.settings.json":  # local secrets never ship
            continue
        paths.append(os.path.relpath(os.path.join(top, f), dist))

tmp = out + ".tmp"
with zipfile.ZipFile(tmp, "w") as zf:
    for d in sorted({os.path.dirname(p) for p in paths if os.path.dirname(p)}):
        zf.writestr(entry(d.replace(os.sep, "/") + "/", stat.S_IFDIR | 0o755), b"")
    for rel in sorted(paths):
        full = os.path.join(dist, rel)
        executable = os.stat(full).st_mode & 0o111
        info = entry(rel.replace(os.sep, "/"), stat.S_IFREG | (0o755 if executable else 0o644))
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(full, "rb") as fh:
            zf.writestr(info, fh.read())
os.replace(tmp, out)
print(f"package.sh: wrote {out} ({len(paths)} files)")
PY
fi
