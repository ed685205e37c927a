"""Fixtures for the integration tests: a real Asterisk (scripts/asterisk-testbed)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TESTBED_SCRIPT = REPO / "scripts" / "asterisk-testbed"


@dataclass(frozen=True)
class AsteriskTestbed:
    ari_url: str
    username: str
    password: str
    app: str
    sip_host: str
    sip_port: int


def run_testbed(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run scripts/asterisk-testbed; output captured (stdout and stderr together)."""
    return subprocess.run(
        [str(TESTBED_SCRIPT), *args], cwd=REPO, capture_output=True, text=True,
        timeout=timeout, check=False,
    )


def testbed_env() -> dict[str, str]:
    """The SECRETARY_* variables that `asterisk-testbed env` exports."""
    out = run_testbed("env").stdout
    return dict(
        line.removeprefix("export ").split("=", 1) for line in out.splitlines() if "=" in line
    )


@pytest.fixture(scope="session")
def asterisk_testbed() -> Iterator[AsteriskTestbed]:
    """The running testbed; started here (and stopped at the end) unless it already ran."""
    already_running = run_testbed("status").returncode == 0
    started = run_testbed("start")  # the first run on a fresh machine also sets it up
    if started.returncode != 0:
        pytest.fail(
            f"scripts/asterisk-testbed start failed ({started.returncode}):\n"
            f"{started.stdout}{started.stderr}",
            pytrace=False,
        )
    env = testbed_env()
    yield AsteriskTestbed(
        ari_url=env["SECRETARY_ARI_URL"],
        username=env["SECRETARY_ARI_USER"],
        password=env["SECRETARY_ARI_PASSWORD"],
        app="secretary",  # Stasis(secretary) in asterisk/dialplan/secretary.conf
        sip_host=env["SECRETARY_SIP_HOST"],
        sip_port=int(env["SECRETARY_SIP_PORT"]),
    )
    if not already_running:
        stopped = run_testbed("stop", timeout=60)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
