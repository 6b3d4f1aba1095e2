#!/usr/bin/env python3
"""scripts/deploy/preflight.sh names each missing prerequisite, one line each, with how to get it.

Each case runs the real script with a PATH made for it: small stand-ins for azd, node, npx,
rustup, cargo and az (shell scripts that print what the real tools print), Debian's python3, and
the few system tools the script itself uses. Then one tool is taken away, or made too old, and
the test checks the exact line that names it. Nothing here talks to Azure or the network: the
`az` stand-in answers from a file.

    python3 tests/deploy/test_preflight.py      (stdlib only; CI runs it in the deployment checks)
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PREFLIGHT = ROOT / "scripts" / "deploy" / "preflight.sh"
TOOLCHAIN = "1.95.0"
# What preflight.sh itself runs besides the tools it checks.
SYSTEM_TOOLS = ("sh", "awk", "grep", "sed", "head", "tr", "dirname", "cat")
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable

STUBS = {
    "azd": """#!/bin/sh
case "$1" in
  version) echo "azd version ${STUB_AZD_VERSION:-1.21.0} (commit 0000000)" ;;
  config) [ "$3" = "alpha.language.custom" ] && [ -n "${STUB_AZD_ALPHA:-}" ] && echo "\\"$STUB_AZD_ALPHA\\"" && exit 0
          echo "ERROR: no value at path" >&2; exit 1 ;;
esac
""",
    "node": '#!/bin/sh\necho "v${STUB_NODE_VERSION:-20.11.1}"\n',
    "npx": '#!/bin/sh\necho "10.2.4"\n',
    "cargo": f'#!/bin/sh\necho "cargo {TOOLCHAIN} (f2d3ce0bd 2026-03-21)"\n',
    "rustup": f"""#!/bin/sh
case "$1 $2" in
  "toolchain list") echo "{TOOLCHAIN}-x86_64-unknown-linux-gnu (active, default)" ;;
  "target list") [ -z "${{STUB_NO_TARGET:-}}" ] && echo "x86_64-unknown-linux-gnu" ;;
esac
exit 0
""",
    "objdump": '#!/bin/sh\necho "GNU objdump (GNU Binutils for Debian) 2.40"\n',
    "az": """#!/bin/sh
case "$1 $2" in
  "account show") [ -n "${STUB_AZ_LOGGED_IN:-}" ] || { echo "Please run 'az login'" >&2; exit 1; } ;;
  "functionapp list-flexconsumption-runtimes") cat "$STUB_AZ_RUNTIMES" ;;
  *) exit 2 ;;
esac
""",
}


class Preflight(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="preflight-test."))
        self.addCleanup(shutil.rmtree, self.tmp)
        self.bin = self.tmp / "bin"
        self.bin.mkdir()
        for tool in SYSTEM_TOOLS:
            found = shutil.which(tool)
            self.assertIsNotNone(found, f"{tool} is needed to run the test")
            (self.bin / tool).symlink_to(found)
        (self.bin / "python3").symlink_to(PYTHON)
        for name, text in STUBS.items():
            self.stub(name, text)
        (self.tmp / "runtimes.json").write_text('[{"name": "custom", "version": "1.0", "isDefault": true}]')
        self.env = {
            "PATH": str(self.bin),
            "HOME": str(self.tmp),
            "AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM": "true",
            "AZURE_LOCATION": "swedencentral",
            "STUB_AZ_RUNTIMES": str(self.tmp / "runtimes.json"),
        }

    def stub(self, name: str, text: str) -> None:
        path = self.bin / name
        if path.exists() or path.is_symlink():
            path.unlink()
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    def remove(self, name: str) -> None:
        (self.bin / name).unlink()

    def run_preflight(self, **env: str) -> tuple[int, list[str]]:
        result = subprocess.run(
            [str(PREFLIGHT)], env={**self.env, **env}, cwd=self.tmp, capture_output=True, text=True, timeout=60
        )
        self.assertEqual(result.stderr.strip(), "", "preflight.sh wrote to stderr")
        return result.returncode, result.stdout.splitlines()

    def assert_one_missing(self, lines: list[str], starts: str, mentions: str) -> None:
        missing = [line for line in lines if line.startswith("MISSING")]
        self.assertEqual(len(missing), 1, "\n".join(lines))
        self.assertTrue(missing[0].startswith(starts), missing[0])
        self.assertIn(mentions, missing[0])

    # --- everything there -----------------------------------------------------------------------

    def test_all_present_passes(self):
        code, lines = self.run_preflight(STUB_AZ_LOGGED_IN="1")
        self.assertEqual(code, 0, "\n".join(lines))
        self.assertEqual(lines[-1], "preflight: 8 ok, 0 missing, 0 skipped")

    # --- one tool removed from PATH -------------------------------------------------------------

    def test_npx_removed_from_path(self):
        self.remove("npx")
        code, lines = self.run_preflight()
        self.assertEqual(code, 1)
        self.assert_one_missing(lines, "MISSING  npx: not found", "https://nodejs.org/")

    def test_node_removed_from_path(self):
        self.remove("node")
        code, lines = self.run_preflight()
        self.assertEqual(code, 1)
        self.assert_one_missing(lines, "MISSING  node: not found", "Node.js 18 or later")

    def test_azd_removed_from_path(self):
        self.remove("azd")
        code, lines = self.run_preflight()
        self.assertEqual(code, 1)
        self.assert_one_missing(lines, "MISSING  azd: not found", "https://aka.ms/install-azd")

    def test_rustup_and_cargo_removed_from_path(self):
        self.remove("rustup")
        self.remove("cargo")
        code, lines = self.run_preflight()
        self.assertEqual(code, 1)
        self.assert_one_missing(lines, "MISSING  rust: cargo and rustup not found", "https://rustup.rs/")

    def test_python_removed_from_path(self):
        self.remove("python3")
        code, lines = self.run_preflight()
        self.assertEqual(code, 1)
        self.assert_one_missing(lines, "MISSING  python3: not found", "python3-venv")

    def test_objdump_removed_from_path(self):
        self.remove("objdump")
        code, lines = self.run_preflight()
        self.assertEqual(code, 1)
        self.assert_one_missing(lines, "MISSING  objdump: not found", "sudo apt install binutils")

    # --- present but not good enough --------------------------------------------------------------

    def test_old_azd(self):
        code, lines = self.run_preflight(STUB_AZD_VERSION="1.19.2")
        self.assertEqual(code, 1)
        self.assert_one_missing(lines, "MISSING  azd: 1.19.2 is older than 1.20.0", "install-azd")

    def test_alpha_switch_off_in_config(self):
        env = dict(self.env)
        del env["AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM"]
        self.env = env
        code, lines = self.run_preflight()
        self.assertEqual(code, 1)
        self.assert_one_missing(
            lines, "MISSING  azd alpha feature language.custom: off", "azd config set alpha.language.custom on"
        )

    def test_alpha_switch_on_in_config(self):
        del self.env["AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM"]
        code, lines = self.run_preflight(STUB_AZD_ALPHA="on")
        self.assertEqual(code, 0, "\n".join(lines))
        self.assertIn("ok       azd alpha feature language.custom: on (azd config)", lines)

    def test_alpha_variable_on_is_not_a_boolean(self):
        code, lines = self.run_preflight(AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM="on")
        self.assertEqual(code, 1)
        self.assert_one_missing(lines, "MISSING  azd alpha feature language.custom:", "AZD_ALPHA_ENABLE_LANGUAGE_CUSTOM=true")

    def test_old_node(self):
        code, lines = self.run_preflight(STUB_NODE_VERSION="16.20.0")
        self.assertEqual(code, 1)
        self.assert_one_missing(lines, "MISSING  node: 16.20.0 is older than 18", "nodejs.org")

    def test_rust_target_missing(self):
        code, lines = self.run_preflight(STUB_NO_TARGET="1")
        self.assertEqual(code, 1)
        self.assert_one_missing(
            lines, "MISSING  rust: toolchain 1.95.0 lacks the target x86_64-unknown-linux-gnu", "rustup target add"
        )

    def test_python_without_venv(self):
        self.stub("python3", '#!/bin/sh\ncase "$1" in --version) echo "Python 3.11.2";; *) exit 1;; esac\n')
        code, lines = self.run_preflight()
        self.assertEqual(code, 1)
        self.assert_one_missing(lines, "MISSING  python3 venv:", "sudo apt install python3-venv")

    # --- the region's runtime catalog -------------------------------------------------------------

    def test_runtime_check_skipped_without_az(self):
        self.remove("az")
        code, lines = self.run_preflight()
        self.assertEqual(code, 0, "\n".join(lines))
        self.assertTrue(any(l.startswith("skipped  Flex Consumption runtime custom 1.0: the Azure CLI (az) is not installed") for l in lines))

    def test_runtime_check_skipped_when_not_logged_in(self):
        code, lines = self.run_preflight()
        self.assertEqual(code, 0, "\n".join(lines))
        self.assertTrue(any(l.startswith("skipped  Flex Consumption runtime custom 1.0: the Azure CLI is not logged in") for l in lines))

    def test_runtime_missing_in_region(self):
        (self.tmp / "runtimes.json").write_text('[{"name": "custom", "version": "2.0"}]')
        code, lines = self.run_preflight(STUB_AZ_LOGGED_IN="1")
        self.assertEqual(code, 1)
        self.assert_one_missing(
            lines, "MISSING  Flex Consumption runtime custom 1.0: not in the catalog of swedencentral", "functionapp.bicep"
        )


if __name__ == "__main__":
    os.chdir(ROOT)
    unittest.main(verbosity=1)
