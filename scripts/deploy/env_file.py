"""Read a dotenv file such as azd's .azure/<env>/.env, for the scripts that take --env-file.

Shared by stage_tab.py and package_teams_app.py, which import it from this folder (Python puts
a script's own folder first on sys.path). Only what azd writes is understood: KEY=VALUE lines,
an optional `export ` before the key, one pair of matching quotes around the value; blank lines,
comments and lines without `=` are skipped. No variable is expanded.
"""

from __future__ import annotations

from pathlib import Path


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip().removeprefix("export ").strip()] = value
    return values
