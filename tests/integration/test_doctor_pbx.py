"""`secretary doctor`'s PBX checks against the real testbed Asterisk, over its real AMI.

The AMI users are the testbed's (asterisk/testbed/manager_users.conf). The testbed must have
been started with asterisk/etc/manager.conf enabling AMI (`scripts/asterisk-testbed restart`
once after that file changed).
"""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from testkit.local import REPO, write_config

pytestmark = pytest.mark.integration

USERS = REPO / "asterisk" / "testbed" / "manager_users.conf"


def ami_user(name: str) -> dict[str, Any]:
    users = configparser.ConfigParser(inline_comment_prefixes=(";",), comment_prefixes=(";",))
    users.read(USERS)
    return {"host": "127.0.0.1", "port": 5038, "username": name,
            "password": users[name]["secret"]}


def doctor(config: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "SECRETARY_AMI_PASSWORD"}
    return subprocess.run(
        [sys.executable, "-m", "ari_app.cli.main", "doctor", "-c", str(config)],
        cwd=REPO, capture_output=True, text=True, timeout=60, env={**environ, **(env or {})},
    )


def checks(stdout: str) -> dict[str, tuple[str, str]]:
    """name -> (mark, detail) from doctor's table (`mark  name  detail` lines)."""
    found = {}
    for line in stdout.splitlines():
        mark = line[:4].strip()
        if mark not in ("ok", "WARN", "FAIL"):
            continue
        name_and_detail = line[6:]
        for name in KNOWN:
            if name_and_detail.startswith(name + " "):
                found[name] = (mark, name_and_detail[len(name):].strip())
    return found


KNOWN = (
    "AMI login", "channel driver chan_pjsip", "channel driver chan_rtp",
    "channel driver chan_quectel", "SIP trunk registrations", "SIP endpoints",
    "dialplan secretary-inbound", "dialplan secretary-fallback", "ARI on loopback only",
    "AMI on loopback only",
)


def test_doctor_reports_the_testbed_pbx(asterisk_testbed: Any, tmp_path: Path) -> None:
    proc = doctor(write_config(tmp_path, {"ami": ami_user("secretary-doctor")}))
    out = proc.stdout
    found = checks(out)
    assert found["AMI login"] == ("ok", "secretary-doctor@127.0.0.1:5038"), out
    assert found["channel driver chan_pjsip"][0] == "ok"
    assert found["channel driver chan_rtp"][0] == "ok"  # testbed.yaml: media.transport rtp
    assert found["channel driver chan_quectel"][0] == "WARN"
    assert "scripts/build-chan-quectel" in out and "docs/modem.md" in out
    assert found["SIP trunk registrations"] == ("ok", "none configured")
    # The testbed's two (asterisk/testbed/pjsip_local.conf); asterisk/etc/pjsip.conf's
    # examples (phones, trunks) may show as unreachable here, which is a warning.
    mark, endpoints = found["SIP endpoints"]
    assert "caller (inbound only)" in endpoints and "staff (Not in use)" in endpoints, out
    unreachable = [ln for ln in out.splitlines() if "no reachable contact" in ln]
    assert (mark == "ok") == (not unreachable), out
    assert not any("caller" in ln or "staff" in ln for ln in unreachable), out
    assert found["dialplan secretary-inbound"][0] == "ok"
    assert "Stasis(secretary)" in found["dialplan secretary-inbound"][1]
    assert found["dialplan secretary-fallback"][0] in ("ok", "WARN")
    assert found["ARI on loopback only"] == ("ok", "127.0.0.1:8088")
    assert found["AMI on loopback only"] == ("ok", "127.0.0.1:5038")
    assert proc.returncode == 0, out + proc.stderr  # warnings alone do not fail
    assert "All checks passed" in out


def test_wrong_ami_password_fails_naming_the_key(asterisk_testbed: Any, tmp_path: Path) -> None:
    user = {**ami_user("secretary-doctor"), "password": "not-the-secret"}
    proc = doctor(write_config(tmp_path, {"ami": user}))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    mark, detail = checks(proc.stdout)["AMI login"]
    assert mark == "FAIL" and "Authentication failed" in detail
    assert "ami.password" in detail and "SECRETARY_AMI_PASSWORD" in proc.stdout
    assert "channel driver chan_pjsip" not in proc.stdout  # nothing asked without a login


def test_password_from_the_environment_wins(asterisk_testbed: Any, tmp_path: Path) -> None:
    user = ami_user("secretary-doctor")
    config = write_config(tmp_path, {"ami": {**user, "password": "not-the-secret"}})
    proc = doctor(config, env={"SECRETARY_AMI_PASSWORD": user["password"]})
    assert checks(proc.stdout)["AMI login"][0] == "ok", proc.stdout


def test_gsm_line_without_chan_quectel_fails(asterisk_testbed: Any, tmp_path: Path) -> None:
    proc = doctor(write_config(tmp_path, {"ami": {**ami_user("secretary-doctor"),
                                                  "gsm_line": True}}))
    assert proc.returncode == 1, proc.stdout
    assert checks(proc.stdout)["channel driver chan_quectel"][0] == "FAIL"


def test_without_write_command_doctor_says_what_it_could_not_check(
    asterisk_testbed: Any, tmp_path: Path
) -> None:
    proc = doctor(write_config(tmp_path, {"ami": ami_user("doctor-no-command")}))
    found = checks(proc.stdout)
    assert "staff (Not in use)" in found["SIP endpoints"][1]  # write=system still answers
    for name in ("ARI on loopback only", "AMI on loopback only"):
        assert found[name] == ("WARN", "not checked: the AMI user may not run the Command "
                                       "action"), proc.stdout
    assert "add command to the user's write=" in proc.stdout
    assert proc.returncode == 0, proc.stdout


def test_a_port_that_is_not_ami_is_named(asterisk_testbed: Any, tmp_path: Path) -> None:
    user = {**ami_user("secretary-doctor"), "port": 8088, "timeout_s": 1.0}  # ARI's HTTP port
    proc = doctor(write_config(tmp_path, {"ami": user}))
    mark, detail = checks(proc.stdout)["AMI login"]
    assert mark == "FAIL" and "did not answer the login" in detail and "ami.port" in detail
