"""scripts/build-chan-quectel: only --help and --dry-run run here (a real run fetches and
compiles). The plan must pin one upstream commit and install the module only."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from modem.quectel_conf import CHAN_QUECTEL_COMMIT

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build-chan-quectel"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=30,
                          check=False)


def test_help() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "asterisk-dev" in result.stdout and "--dry-run" in result.stdout


def test_dry_run_plans_a_pinned_build_and_runs_nothing(tmp_path: Path) -> None:
    work = tmp_path / "work"
    result = run("--dry-run", "--workdir", str(work), "--moddir", str(tmp_path / "mods"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    pinned = re.search(r"RoEdAl/asterisk-chan-quectel at ([0-9a-f]{40})", out)
    assert pinned and pinned.group(1) == CHAN_QUECTEL_COMMIT   # one commit, also in the docs
    assert f"fetch --depth 1 https://github.com/RoEdAl/asterisk-chan-quectel {pinned.group(1)}" \
        in out
    assert "+ cmake -S" in out and "+ cmake --build" in out
    assert f"{tmp_path / 'mods'}/chan_quectel.so" in out
    assert "quectel.conf" not in out.split("+ install", 1)[1].split("\n", 1)[0]
    assert not work.exists()            # nothing fetched or created


def test_unknown_option_is_refused() -> None:
    assert run("--frobnicate").returncode == 2
