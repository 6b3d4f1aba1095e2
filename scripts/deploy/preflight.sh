#!/bin/sh
# Check this machine before `azd up` / `azd provision` creates anything in Azure: every tool the
# deployment needs, its version, and azd's `language.custom` alpha switch. One line per check:
#
#   ok       <what>: <found>
#   MISSING  <what>: <what is wrong>; <how to get it>
#   skipped  <what>: <why it could not be checked>
#
# and a closing "preflight: N ok, N missing, N skipped". Exits 1 when anything is missing.
#
#   scripts/deploy/preflight.sh            run it by hand before the first `azd up`
#   (azure.yaml runs it as azd's preup and preprovision hook)
#
# What it checks (docs/deployment.md, "Before you start"):
#   azd      1.20.0 or later (azure.yaml's requiredVersions; `language: custom` arrived there)
#   alpha    AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM (a Go boolean: true/1/t) or azd's config
#            alpha.language.custom (or alpha.all) = on
#   node/npx Node.js 18 or later with npx: azd deploys the tab (a Static Web App) with
#            `npx @azure/static-web-apps-cli`, whose package.json says engines.node >=18.0.0
#   rust     rustup, and the toolchain of rust-toolchain.toml with the x86_64-unknown-linux-gnu
#            target (the prepackage hook builds for it with cargo-zigbuild)
#   python   Python 3.9 or later that can make a virtual environment (`python3 -m venv`, which
#            Debian/Ubuntu ship separately as python3-venv): the prepackage hook installs zig and
#            cargo-zigbuild into one of the project's own
#   objdump  GNU binutils: scripts/deploy/check_glibc.py reads the built binary's glibc symbol versions
#   runtime  the Flex Consumption runtime `custom` 1.0 (what infra/modules/functionapp.bicep asks
#            for) in AZURE_LOCATION, with `az functionapp list-flexconsumption-runtimes`; only when
#            the Azure CLI is installed and logged in, otherwise this line says "skipped". ARM
#            accepts a runtime version the region's catalog lacks, and the app then fails only
#            when its host starts.
#
# Environment: AZURE_LOCATION (azd passes the environment's values to hooks),
# PREFLIGHT_SKIP_AZURE=1 skips the runtime lookup (the only check that talks to Azure).
set -u

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT" || exit 2

AZD_MIN="1.20.0"
NODE_MIN="18"
PYTHON_MIN="3.9"
RUST_TARGET="x86_64-unknown-linux-gnu"
FLEX_RUNTIME="custom"
FLEX_RUNTIME_VERSION="1.0"

ok=0
missing=0
skipped=0
say_ok() { ok=$((ok + 1)); echo "ok       $1"; }
say_missing() { missing=$((missing + 1)); echo "MISSING  $1"; }
say_skipped() { skipped=$((skipped + 1)); echo "skipped  $1"; }
have() { command -v "$1" >/dev/null 2>&1; }

# version_ge FOUND WANTED: true when dotted version FOUND >= WANTED (numeric, per component).
version_ge() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    na = split(a, x, "."); nb = split(b, y, ".")
    n = na > nb ? na : nb
    for (i = 1; i <= n; i++) {
      xi = (i in x) ? x[i] + 0 : 0; yi = (i in y) ? y[i] + 0 : 0
      if (xi > yi) exit 0
      if (xi < yi) exit 1
    }
    exit 0
  }'
}
# The first x.y[.z] in a text.
first_version() { printf '%s\n' "$1" | grep -Eo '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n 1; }

# --- azd --------------------------------------------------------------------------------------
if have azd; then
  azd_version="$(first_version "$(azd version 2>/dev/null)")"
  if [ -z "$azd_version" ]; then
    say_missing "azd: 'azd version' printed no version; reinstall the Azure Developer CLI ($AZD_MIN or later): https://aka.ms/install-azd"
  elif version_ge "$azd_version" "$AZD_MIN"; then
    say_ok "azd: $azd_version (>= $AZD_MIN)"
  else
    say_missing "azd: $azd_version is older than $AZD_MIN (no language: custom); update it: https://aka.ms/install-azd"
  fi
else
  say_missing "azd: not found; install the Azure Developer CLI $AZD_MIN or later: https://aka.ms/install-azd (or deploy with the Azure CLI only, docs/deployment.md)"
fi

# --- azd's language.custom alpha feature ---------------------------------------------------------
# azd reads AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM with Go's strconv.ParseBool, so only 1/t/T/TRUE/true/
# True switch it on ("on" does not), and the variable wins over the config file.
alpha_env="${AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM-}"
case "$alpha_env" in
  1 | t | T | TRUE | true | True)
    say_ok "azd alpha feature language.custom: on (AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM=$alpha_env)" ;;
  0 | f | F | FALSE | false | False)
    say_missing "azd alpha feature language.custom: AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM=$alpha_env switches it off; export AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM=true" ;;
  "")
    if have azd; then
      custom="$(azd config get alpha.language.custom 2>/dev/null | tr -d '"[:space:]')"
      all="$(azd config get alpha.all 2>/dev/null | tr -d '"[:space:]')"
      if [ "$custom" = "on" ] || [ "$all" = "on" ]; then
        say_ok "azd alpha feature language.custom: on (azd config)"
      else
        say_missing "azd alpha feature language.custom: off; run 'azd config set alpha.language.custom on' (CI: export AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM=true)"
      fi
    else
      say_skipped "azd alpha feature language.custom: azd not found; after installing it, run 'azd config set alpha.language.custom on'"
    fi ;;
  *)
    say_missing "azd alpha feature language.custom: AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM='$alpha_env' is not a boolean azd understands; export AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM=true" ;;
esac

# --- Node.js and npx (the tab's Static Web App) -------------------------------------------------------
if have node; then
  node_version="$(first_version "$(node --version 2>/dev/null)")"
  node_major="${node_version%%.*}"
  if [ -n "$node_major" ] && [ "$node_major" -ge "$NODE_MIN" ] 2>/dev/null; then
    say_ok "node: $node_version (>= $NODE_MIN, for the Static Web Apps CLI)"
  else
    say_missing "node: ${node_version:-unknown version} is older than $NODE_MIN; install Node.js $NODE_MIN or later (LTS): https://nodejs.org/ (azd deploys the tab with npx @azure/static-web-apps-cli)"
  fi
else
  say_missing "node: not found; install Node.js $NODE_MIN or later (LTS) with npm: https://nodejs.org/ (azd deploys the tab with npx @azure/static-web-apps-cli)"
fi
if have npx; then
  say_ok "npx: $(npx --version 2>/dev/null || echo present)"
else
  say_missing "npx: not found; it comes with npm (Node.js $NODE_MIN or later: https://nodejs.org/; Debian/Ubuntu: sudo apt install npm)"
fi

# --- Rust -------------------------------------------------------------------------------------------
toolchain="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml 2>/dev/null)"
if have rustup; then
  # In this folder rustup resolves rust-toolchain.toml; an absent toolchain is not installed here.
  if rustup toolchain list 2>/dev/null | grep -q "^$toolchain"; then
    if rustup target list --installed --toolchain "$toolchain" 2>/dev/null | grep -qx "$RUST_TARGET"; then
      say_ok "rust: toolchain $toolchain with target $RUST_TARGET"
    else
      say_missing "rust: toolchain $toolchain lacks the target $RUST_TARGET; run 'rustup target add $RUST_TARGET --toolchain $toolchain'"
    fi
  else
    say_missing "rust: toolchain $toolchain (rust-toolchain.toml) is not installed; run 'rustup toolchain install' in this folder (it installs the listed target too)"
  fi
elif have cargo; then
  say_missing "rustup: not found (cargo $(first_version "$(cargo --version 2>/dev/null)") is there, but rust-toolchain.toml needs rustup); install rustup: https://rustup.rs/"
else
  say_missing "rust: cargo and rustup not found; install rustup: https://rustup.rs/ (then 'rustup toolchain install' in this folder)"
fi

# --- Python with venv -------------------------------------------------------------------------------
if have python3; then
  py_version="$(first_version "$(python3 --version 2>&1)")"
  if ! version_ge "${py_version:-0}" "$PYTHON_MIN"; then
    say_missing "python3: ${py_version:-unknown version} is older than $PYTHON_MIN; install Python 3 (Debian/Ubuntu: sudo apt install python3 python3-venv; macOS: https://www.python.org/downloads/)"
  elif python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    say_ok "python3: $py_version with venv"
  else
    say_missing "python3 venv: $(command -v python3) cannot make a virtual environment (no ensurepip); Debian/Ubuntu: sudo apt install python3-venv"
  fi
else
  say_missing "python3: not found; install Python $PYTHON_MIN or later with venv (Debian/Ubuntu: sudo apt install python3 python3-venv; macOS: https://www.python.org/downloads/)"
fi

# --- binutils: scripts/deploy/check_glibc.py reads the package's binary with GNU objdump -------------------
if have objdump; then
  say_ok "objdump: $(first_version "$(objdump --version 2>/dev/null | head -n 1)")"
else
  say_missing "objdump: not found; the package's glibc check needs GNU binutils (Debian/Ubuntu: sudo apt install binutils)"
fi

# --- Flex Consumption runtime in the region (Azure CLI, only when logged in) -------------------------
runtime_what="Flex Consumption runtime $FLEX_RUNTIME $FLEX_RUNTIME_VERSION"
if [ "${PREFLIGHT_SKIP_AZURE:-0}" = "1" ]; then
  say_skipped "$runtime_what: PREFLIGHT_SKIP_AZURE=1"
elif ! have az; then
  say_skipped "$runtime_what: the Azure CLI (az) is not installed; check by hand: az functionapp list-flexconsumption-runtimes -l <region> --runtime $FLEX_RUNTIME (PowerShell: Get-AzFunctionAppFlexConsumptionRuntime -Location <region> -Runtime $FLEX_RUNTIME)"
elif [ -z "${AZURE_LOCATION:-}" ]; then
  say_skipped "$runtime_what: AZURE_LOCATION is not set (azd env set AZURE_LOCATION <region>)"
elif ! az account show --output none >/dev/null 2>&1; then
  say_skipped "$runtime_what: the Azure CLI is not logged in (az login), so the region's catalog was not read"
else
  runtimes="$(az functionapp list-flexconsumption-runtimes --location "$AZURE_LOCATION" --runtime "$FLEX_RUNTIME" --output json 2>/dev/null)"
  status=$?
  if [ $status -ne 0 ] || [ -z "$runtimes" ]; then
    say_skipped "$runtime_what: 'az functionapp list-flexconsumption-runtimes' failed (an older az? az upgrade) for $AZURE_LOCATION"
  else
    # Whatever the exact JSON shape, the region offers the version when some "version" field holds it.
    if printf '%s' "$runtimes" | python3 -c '
import json, sys
want = sys.argv[1]
def versions(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key.lower() == "version" and isinstance(value, str):
                yield value
            yield from versions(value)
    elif isinstance(node, list):
        for item in node:
            yield from versions(item)
try:
    found = set(versions(json.load(sys.stdin)))
except ValueError:
    sys.exit(2)
sys.exit(0 if want in found else 1)
' "$FLEX_RUNTIME_VERSION" 2>/dev/null; then
      say_ok "$runtime_what: offered in $AZURE_LOCATION"
    else
      say_missing "$runtime_what: not in the catalog of $AZURE_LOCATION; choose another region (az functionapp list-flexconsumption-locations) or change runtime.version in infra/modules/functionapp.bicep to one the region lists"
    fi
  fi
fi

echo "preflight: $ok ok, $missing missing, $skipped skipped"
[ "$missing" -eq 0 ]
