"""`python -m modem diagnose` end to end: the real modem code (pyserial, AT client, probe,
report) against the SIM7600 simulation on a pty, one scenario at a time."""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sim7600 import SCENARIOS, Sim7600Simulator

from ari_app.doctor.check import Check, exit_code
from modem.at import open_at_port
from modem.cli import main
from modem.diagnose import format_report, port_checks
from modem.ports import ModemPorts, PortScan
from modem.probe import probe

LINE = re.compile(r"^\[(?: ok |warn|FAIL)\] ([^:]+): ", re.M)


def run_diagnose(scenario: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                 *extra: str) -> tuple[int, dict[str, str], str]:
    audio = tmp_path / "ttyUSB4"
    audio.touch()
    with Sim7600Simulator(SCENARIOS[scenario]) as sim:
        rc = main(["diagnose", "--at-port", sim.port, "--audio-port", str(audio),
                   "--timeout", "0.5", *extra])
    out = capsys.readouterr().out
    statuses = {m.group(1): m.group(0)[1:5].strip().lower() for m in LINE.finditer(out)}
    return rc, statuses, out


EXPECTED = {
    # scenario: (exit code, {check: status})
    "healthy": (0, {"AT port": "ok", "SIM card": "ok", "Signal": "ok", "Registration": "ok",
                    "Operator": "ok", "Caller ID": "ok", "USB voice": "ok",
                    "Audio format": "ok", "Audio gains": "ok"}),
    "roaming": (0, {"Registration": "warn", "SIM card": "ok"}),
    "no_sim": (1, {"SIM card": "fail", "Registration": "fail", "Caller ID": "warn"}),
    "pin_required": (1, {"SIM card": "fail", "Registration": "fail"}),
    "no_network": (1, {"SIM card": "ok", "Signal": "fail", "Registration": "fail",
                       "Operator": "fail", "Caller ID": "warn"}),
    "denied": (1, {"Registration": "fail", "Signal": "ok"}),
    "no_usb_voice": (1, {"USB voice": "fail", "Audio format": "warn"}),
    "garbage": (1, {"AT port": "fail"}),
    "silent": (1, {"AT port": "fail"}),
}


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_each_scenario_gives_its_verdicts(scenario: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    rc, statuses, out = run_diagnose(scenario, tmp_path, capsys)
    want_rc, want = EXPECTED[scenario]
    assert rc == want_rc, out
    for name, status in want.items():
        assert statuses.get(name) == status, f"{name} in {scenario}:\n{out}"
    if rc:   # every failure says what to do
        assert out.count("what to do:") >= sum(s == "fail" for s in statuses.values()) - 1


def test_report_words_for_the_common_faults(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    _, _, out = run_diagnose("no_sim", tmp_path, capsys)
    assert "no SIM card in the modem" in out and "insert the SIM" in out
    _, _, out = run_diagnose("denied", tmp_path, capsys)
    assert "registration denied" in out and "Ask the operator" in out
    _, _, out = run_diagnose("healthy", tmp_path, capsys)
    assert "-67 dBm (CSQ 23), excellent" in out and "MegaFon, LTE" in out
    _, _, out = run_diagnose("garbage", tmp_path, capsys)
    assert "unreadable" in out
    _, _, out = run_diagnose("silent", tmp_path, capsys)
    assert "no answer to AT within 0.5 s" in out


def test_pin_entered_on_request_then_ready(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    rc, statuses, out = run_diagnose("pin_required", tmp_path, capsys, "--pin", "1234")
    assert rc == 0, out
    assert statuses["SIM card"] == "warn" and "PIN lock off" in out
    assert statuses["Registration"] == "ok"


def test_wrong_pin_is_reported_with_attempts_left() -> None:
    with Sim7600Simulator(SCENARIOS["pin_required"]) as sim:
        client = open_at_port(sim.port)
        try:
            facts = probe(client, pin="0000")
        finally:
            client.close()
    assert facts.pin_entered is False and facts.sim == "SIM PIN"
    assert facts.pin_attempts is not None and facts.pin_attempts.pin == 2
    assert "AT+CPIN=0000" in sim.commands


def test_last_pin_attempt_is_never_spent() -> None:
    scenario = replace(SCENARIOS["pin_required"], pin_attempts=1)
    with Sim7600Simulator(scenario) as sim:
        client = open_at_port(sim.port)
        try:
            facts = probe(client, pin="1234")
        finally:
            client.close()
    assert not any(c.startswith("AT+CPIN=") for c in sim.commands)
    assert "one attempt is left" in str(facts.errors["pin"])


def test_probe_keeps_urcs_and_identity() -> None:
    with Sim7600Simulator(SCENARIOS["healthy"]) as sim:
        client = open_at_port(sim.port)
        try:
            facts = probe(client)
        finally:
            client.close()
    assert facts.model == "SIMCOM_SIM7600G-H" and facts.imei == "861234050000012"
    assert facts.imsi.startswith("250") and facts.pcm_formats == {0, 1}
    assert "RING" in facts.urcs and not facts.errors


def test_port_checks_without_a_modem_or_with_another_usb_mode() -> None:
    none = port_checks(PortScan([], []), None, None)
    assert [c.status for c in none] == ["fail"] and "1e0e:9001" in none[0].detail
    other = port_checks(PortScan([], ["/dev/ttyUSB0 (1e0e:9011)"]), None, None)
    assert "AT+CUSBPIDSWITCH=9001" in other[0].fix
    two = PortScan([ModemPorts("1-1.2", None, {"at": "/dev/null"}),
                    ModemPorts("1-1.3", None, {})], [])
    checks = port_checks(two, "/dev/null", "/dev/null", {})
    assert checks[0].status == "warn" and "2 SIM7600 modems" in checks[0].detail


def test_port_checks_missing_audio_port_and_udev_names(tmp_path: Path) -> None:
    at = tmp_path / "ttyUSB2"
    audio = tmp_path / "ttyUSB4"
    at.touch()
    audio.touch()
    assert port_checks(None, str(at), None)[-1].status == "fail"
    assert port_checks(None, str(at), str(tmp_path / "nope"))[-1].status == "fail"
    names = {"at": str(tmp_path / "sim7600-at"), "audio": str(tmp_path / "sim7600-audio")}
    assert port_checks(None, str(at), str(audio), names)[-1].status == "warn"
    Path(names["at"]).symlink_to(at)
    Path(names["audio"]).symlink_to(audio)
    assert port_checks(None, str(at), str(audio), names)[-1].status == "ok"


def test_exit_code_and_report_summary() -> None:
    checks = [Check("A", "ok", "fine"), Check("B", "warn", "hm", "look"),
              Check("C", "fail", "broken", "fix it")]
    assert exit_code(checks) == 1 and exit_code(checks[:2]) == 0
    report = format_report(checks)
    assert "Summary: 1 failed, 1 warnings, 1 ok." in report and "what to do: fix it" in report
