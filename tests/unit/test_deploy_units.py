"""The systemd unit and sysusers file in deploy/systemd, checked by systemd's own tools:
`systemd-analyze verify` (every key known and parsed, the command executable),
`systemd-analyze security --offline` (the hardening holds) and `systemd-sysusers` (the user
it runs as is made)."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "deploy" / "systemd"
INSTALLED_COMMAND = "/opt/ai-secretary/.venv/bin/secretary"

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed (systemd)"
)


def _unit_here(tmp_path: Path) -> Path:
    """The unit with its command pointed at this checkout's, which exists."""
    text = (UNITS / "secretary.service").read_text(encoding="utf-8")
    assert INSTALLED_COMMAND in text
    here = str(REPO / ".venv" / "bin" / "secretary")
    unit = tmp_path / "secretary.service"
    unit.write_text(text.replace(INSTALLED_COMMAND, here), encoding="utf-8")
    return unit


def _analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True,
                          timeout=60, check=False)


def test_systemd_accepts_every_line_of_the_unit(tmp_path: Path) -> None:
    result = _analyze("verify", str(_unit_here(tmp_path)))
    # systemd only warns about an unknown key or a bad value and goes on: any word is a fault
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_verify_would_catch_a_typo(tmp_path: Path) -> None:
    """The check above can fail: the same unit with one key misspelt is reported."""
    unit = _unit_here(tmp_path)
    unit.write_text(unit.read_text(encoding="utf-8").replace("UMask=", "UMaks="),
                    encoding="utf-8")
    assert "Unknown key" in _analyze("verify", str(unit)).stderr


def test_the_unit_is_hardened_and_restarts(tmp_path: Path) -> None:
    unit = _unit_here(tmp_path)
    # exposure 0.0 (locked down) to 10.0 (exposed); the threshold is in tenths
    result = _analyze("security", "--offline=yes", "--threshold=30", str(unit))
    assert result.returncode == 0, result.stdout[-2000:]
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.optionxform = str  # type: ignore[assignment,method-assign]
    service.read(unit, encoding="utf-8")
    section = service["Service"]
    assert section["Restart"] == "on-failure"
    assert section["User"] == "secretary"
    assert section["AmbientCapabilities"] == "CAP_SYS_NICE"
    assert section["EnvironmentFile"].lstrip("-") == "/etc/secretary/secretary.env"
    # the stop waits out the drain (shutdown.drain_s, 10 s by default) with room to spare
    assert int(section["TimeoutStopSec"]) >= 20


def test_sysusers_makes_the_service_user(tmp_path: Path) -> None:
    sysusers = shutil.which("systemd-sysusers")
    if sysusers is None:
        pytest.skip("systemd-sysusers not installed")
    (tmp_path / "etc").mkdir()
    subprocess.run([sysusers, f"--root={tmp_path}", str(UNITS / "secretary.sysusers")],
                   check=True, capture_output=True, timeout=60)
    users = {line.split(":")[0]: line.split(":") for line in
             (tmp_path / "etc" / "passwd").read_text(encoding="utf-8").splitlines()}
    assert users["secretary"][5] == "/var/lib/secretary"
    assert users["secretary"][6].endswith("nologin")


def test_the_service_may_write_where_the_app_and_its_console_write() -> None:
    """Every place the example config makes the app write (records, recordings, cloned
    voices, personas, the LLM keys the console sets, and the config itself, which the
    console's Settings and Voices rewrite) is writable under the unit's ProtectSystem=strict."""
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.optionxform = str  # type: ignore[assignment,method-assign]
    service.read(UNITS / "secretary.service", encoding="utf-8")
    section = service["Service"]
    writable = [Path(p.lstrip("-")) for p in section["ReadWritePaths"].split()]
    writable += [Path("/var/lib") / d for d in section["StateDirectory"].split()]
    unit_lines = (UNITS / "secretary.service").read_text(encoding="utf-8").splitlines()
    # Environment= comes more than once (configparser keeps only the last)
    config_path = Path(next(line.split("=", 2)[2] for line in unit_lines
                            if line.startswith("Environment=SECRETARY_CONFIG=")))
    example = REPO / "config" / "secretary.example.yaml"
    cfg = yaml.safe_load(example.read_text(encoding="utf-8"))
    # the commented secrets_file line is the one an admin uncomments
    secrets = next(line.split(":", 1)[1].split("#")[0].strip()
                   for line in example.read_text(encoding="utf-8").splitlines()
                   if line.strip().startswith("# secrets_file:"))
    written = {
        "config (console Settings, Voices)": config_path.parent,
        "storage.database": Path(cfg["storage"]["database"]).parent,
        "storage.recordings_dir": Path(cfg["storage"]["recordings_dir"]),
        "paths.personas_dir": Path(cfg["paths"]["personas_dir"]),
        "paths.voices_dir": Path(cfg["paths"]["voices_dir"]),
        "llm.secrets_file": Path(secrets).parent,
    }
    for what, path in written.items():
        assert path.is_absolute(), f"{what}: {path} depends on the working directory"
        assert any(path == w or w in path.parents for w in writable), (
            f"{what}: {path} is read-only under the unit (writable: {writable})")
