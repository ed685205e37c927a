"""The PBX checks of `secretary doctor` on recorded Asterisk answers.

tests/unit/data/pbx/: ami_*.json and cli_*.txt were captured from the testbed's Asterisk 22
over AMI (ami_registrations_outbound.json with two throw-away trunks added for the capture:
one to a port nobody answers, one that Asterisk itself refuses with 403). quectel_*.txt were
written by hand in the formats of chan_quectel's src/cli.c at the commit
scripts/build-chan-quectel builds (no modem here to capture from).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ari_app.ari.ami import AmiConfig, AmiError, AmiReply, AmiSession
from ari_app.doctor.check import Check
from ari_app.doctor.pbx import (
    Expect,
    http_binds,
    is_loopback,
    judge_dialplan,
    judge_endpoints,
    judge_listen,
    judge_registrations,
    manager_binds,
    pbx_checks,
)
from ari_app.doctor.quectel import judge_modem, parse_device_state, parse_devices, signal_dbm
from ari_app.doctor.run import summary

DATA = Path(__file__).parent / "data" / "pbx"
DENIED = AmiReply({"Response": "Error", "Message": "Permission denied"})  # as Asterisk says it


def reply(name: str) -> AmiReply:
    return AmiReply.from_messages(json.loads((DATA / name).read_text()))


def text(name: str) -> str:
    return (DATA / name).read_text()


def command_reply(output: str, ok: bool = True) -> AmiReply:
    """A Command action's answer as panoramisk hands it over: one Output header per line."""
    return AmiReply.from_messages([{
        "Response": "Success" if ok else "Error", "Message": "Command output follows",
        "Output": output.splitlines(),
    }])


# --- AMI answers ---------------------------------------------------------------------------


def test_reply_splits_response_and_events() -> None:
    r = reply("ami_endpoints.json")
    assert r.ok and r.response["EventList"] == "start"
    assert [e["ObjectName"] for e in r.items("EndpointList")] == ["caller", "staff"]
    assert r.items("EndpointListComplete")[0]["ListItems"] == "2"


def test_command_output_keeps_its_lines() -> None:
    r = command_reply(text("cli_http_show_status.txt"))
    assert r.output.splitlines()[3] == "Server Enabled and Bound to 127.0.0.1:8088"


async def test_no_password_names_the_key_and_the_variable() -> None:
    with pytest.raises(AmiError) as caught:
        await AmiSession.open(AmiConfig(), None)
    assert "ami.password" in str(caught.value) and "SECRETARY_AMI_PASSWORD" in str(caught.value)
    assert "[secretary-doctor]" in caught.value.fix


# --- SIP ---------------------------------------------------------------------------------


def test_testbed_endpoints_are_fine() -> None:
    check = judge_endpoints(reply("ami_endpoints.json"))
    assert check.status == "ok"
    assert check.detail == "caller (inbound only), staff (Not in use)"


def test_an_unreachable_phone_is_a_warning_that_names_it() -> None:
    messages = json.loads((DATA / "ami_endpoints.json").read_text())
    staff = next(m for m in messages if m.get("ObjectName") == "staff")
    staff["DeviceState"] = "Unavailable"
    check = judge_endpoints(AmiReply.from_messages(messages))
    assert check.status == "warn" and check.fix.startswith("staff: no reachable contact")


def test_failed_trunk_registrations_fail_with_the_trunk_named() -> None:
    checks = judge_registrations(reply("ami_registrations_outbound.json"))
    assert [(c.name, c.status) for c in checks] == [
        ("SIP trunk trunk-nowhere", "fail"), ("SIP trunk trunk-rejected", "fail")]
    nowhere, rejected = checks
    assert nowhere.detail == "Unregistered at sip:127.0.0.1:5099"
    assert "server_uri" in nowhere.fix and "pjsip send register trunk-nowhere" in nowhere.fix
    assert "auth" in rejected.fix and "pjsip send register trunk-rejected" in rejected.fix
    assert "x" not in {c.detail for c in checks}  # the trunk's password never shows


def test_registered_trunk_is_ok_and_none_is_ok() -> None:
    messages = json.loads((DATA / "ami_registrations_outbound.json").read_text())
    for m in messages:
        if m.get("Event") == "OutboundRegistrationDetail":
            m["Status"] = "Registered"
    assert {c.status for c in judge_registrations(AmiReply.from_messages(messages))} == {"ok"}
    empty = [m for m in messages if m.get("Event") != "OutboundRegistrationDetail"]
    assert judge_registrations(AmiReply.from_messages(empty)) == [
        Check("SIP trunk registrations", "ok", "none configured")]


# --- dialplan --------------------------------------------------------------------------------


def test_inbound_context_hands_calls_to_our_app() -> None:
    inbound, fallback = judge_dialplan(
        reply("ami_dialplan_secretary_inbound.json"),
        reply("ami_dialplan_missing_context.json"), "secretary")
    assert (inbound.status, inbound.detail) == ("ok", "10 steps, Stasis(secretary)")
    assert fallback.status == "warn" and "congestion" in fallback.detail


def test_stasis_of_another_app_fails_naming_ari_app() -> None:
    inbound = judge_dialplan(reply("ami_dialplan_secretary_inbound.json"),
                             reply("ami_dialplan_missing_context.json"), "office")[0]
    assert inbound.status == "fail" and "ari.app is 'office'" in inbound.detail


def test_missing_fallback_that_inbound_uses_fails() -> None:
    messages = json.loads((DATA / "ami_dialplan_secretary_inbound.json").read_text())
    step = next(m for m in messages if m.get("Priority") == "9")
    step.update(Application="Goto", AppData="secretary-fallback,s,1")
    fallback = judge_dialplan(AmiReply.from_messages(messages),
                              reply("ami_dialplan_missing_context.json"), "secretary")[1]
    assert fallback.status == "fail" and "dropped" in fallback.detail


def test_missing_inbound_context_fails() -> None:
    missing = reply("ami_dialplan_missing_context.json")
    inbound = judge_dialplan(missing, missing, "secretary")[0]
    assert inbound.status == "fail" and "secretary.conf" in inbound.fix


# --- listening addresses ------------------------------------------------------------------


def test_binds_from_captured_cli_output() -> None:
    assert http_binds(text("cli_http_show_status.txt")) == ["127.0.0.1:8088"]
    assert manager_binds(text("cli_manager_show_settings.txt")) == ["127.0.0.1:5038"]
    with_tls = text("cli_manager_show_settings.txt").replace(
        "TLS Bindaddress:           Disabled", "TLS Bindaddress:           0.0.0.0:5039")
    assert manager_binds(with_tls) == ["127.0.0.1:5038", "0.0.0.0:5039"]


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1:8088", True), ("127.0.1.1", True), ("[::1]:8088", True), ("::1", True),
    ("localhost", True), ("0.0.0.0:8088", False), ("[::]:5038", False),
    ("192.168.1.10:8088", False), ("pbx.example.org", False),
])
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_public_ari_fails_when_the_secretary_uses_loopback() -> None:
    status = text("cli_http_show_status.txt").replace("127.0.0.1:8088", "0.0.0.0:8088")
    r = command_reply(status)
    local = judge_listen("ARI on loopback only", r, http_binds(status), "127.0.0.1", "http.conf")
    assert local.status == "fail" and "bindaddr = 127.0.0.1 in http.conf" in local.fix
    remote = judge_listen("ARI on loopback only", r, http_binds(status), "10.0.0.5", "http.conf")
    assert remote.status == "warn" and "firewall" in remote.fix
    ok = judge_listen("ARI on loopback only", command_reply(text("cli_http_show_status.txt")),
                      ["127.0.0.1:8088"], "127.0.0.1", "http.conf")
    assert ok.status == "ok"


def test_no_command_permission_is_a_warning_naming_the_class() -> None:
    check = judge_listen("AMI on loopback only", DENIED, [], "127.0.0.1", "manager.conf")
    assert check.status == "warn" and "add command to the user's write=" in check.fix


# --- chan_quectel ------------------------------------------------------------------------------


def test_parse_quectel_show_devices() -> None:
    rows = parse_devices(text("quectel_show_devices.txt"))
    assert [(r.id, r.group, r.state, r.rssi, r.mode) for r in rows] == [
        ("sim7600", 0, "Free", 18, 8),
        ("sim7600-offi", 1, "Not connected", 0, 0),  # both cut to their column's width
        ("sim7600b", 0, "GSM not registered", 4, 1),
    ]


def test_parse_device_state() -> None:
    state = parse_device_state(text("quectel_show_device_state_registered.txt"))
    assert state["GSM Registration Status"] == "Registered, home network"
    assert state["RSSI"] == "18, -77 dBm" and state["Provider Name"] == "MTS RUS"
    assert parse_device_state("Device sim7600-offi not found\n") == {}


def test_registered_modem_with_good_signal_is_ok() -> None:
    row = parse_devices(text("quectel_show_devices.txt"))[0]
    state = parse_device_state(text("quectel_show_device_state_registered.txt"))
    check = judge_modem(row, state, required=True)
    assert check == Check("GSM modem sim7600", "ok",
                          "Free, Registered, home network, signal -77 dBm, MTS RUS LTE")


def test_disconnected_modem_fails_only_when_a_gsm_line_is_expected() -> None:
    row = parse_devices(text("quectel_show_devices.txt"))[1]
    required = judge_modem(row, {}, required=True)
    assert required.status == "fail" and required.detail.startswith("not connected")
    assert "quectel.conf" in required.fix and "sim7600-offi" in required.fix
    assert judge_modem(row, {}, required=False).status == "warn"


def test_searching_modem_is_not_on_the_network() -> None:
    row = parse_devices(text("quectel_show_devices.txt"))[2]
    state = parse_device_state(text("quectel_show_device_state_searching.txt"))
    check = judge_modem(row, state, required=True)
    assert check.status == "fail"
    assert check.detail.startswith("not registered for calls (Not registered, but searching)")
    assert "antenna" in check.fix
    alone = judge_modem(row, {}, required=True)  # the state query failed: the row says enough
    assert alone.status == "fail" and alone.detail.startswith("not on the GSM network")


def test_sms_only_registration_cannot_take_calls() -> None:
    row = parse_devices(text("quectel_show_devices.txt"))[0]
    state = parse_device_state(text("quectel_show_device_state_registered.txt").replace(
        "Registered, home network", "Registered for “SMS only”, roaming"))
    check = judge_modem(row, state, required=False)
    assert check.status == "warn" and "voice" in check.fix


def test_weak_signal_warns() -> None:
    row = parse_devices(text("quectel_show_devices.txt"))[0]
    state = parse_device_state(text("quectel_show_device_state_registered.txt").replace(
        "18, -77 dBm", "6, -101 dBm"))
    check = judge_modem(row, state, required=True)
    assert check.status == "warn" and "signal -101 dBm" in check.detail


@pytest.mark.parametrize(("rssi", "words"), [
    (0, "<= -113 dBm"), (1, "-111 dBm"), (30, "-53 dBm"), (31, ">= -51 dBm"),
    (99, "unknown"), (None, "unknown"),
])
def test_signal_words(rssi: int | None, words: str) -> None:
    assert signal_dbm(rssi) == words


# --- the whole PBX section on recorded answers ----------------------------------------------


class FakeAmi:
    """Answers actions and CLI commands from a table of recorded replies."""

    def __init__(self, actions: dict[str, AmiReply], commands: dict[str, AmiReply]) -> None:
        self.actions, self.commands = actions, commands
        self.asked: list[str] = []

    async def action(self, name: str, **params: str) -> AmiReply:
        key = " ".join([name, *params.values()])
        self.asked.append(key)
        return self.actions[key]

    async def command(self, cli: str) -> AmiReply:
        self.asked.append(cli)
        return self.commands.get(cli) or command_reply(f"No such command '{cli}'", ok=False)


def loaded(ok: bool) -> AmiReply:
    return AmiReply({"Response": "Success"} if ok else
                    {"Response": "Error", "Message": "Module not loaded"})


def fake_pbx(quectel: bool) -> FakeAmi:
    return FakeAmi(
        actions={
            "ModuleCheck chan_pjsip": loaded(True),
            "ModuleCheck chan_rtp": loaded(True),
            "ModuleCheck chan_quectel": loaded(quectel),
            "PJSIPShowRegistrationsOutbound": reply("ami_registrations_outbound.json"),
            "PJSIPShowEndpoints": reply("ami_endpoints.json"),
            "ShowDialPlan secretary-inbound": reply("ami_dialplan_secretary_inbound.json"),
            "ShowDialPlan secretary-fallback": reply("ami_dialplan_missing_context.json"),
        },
        commands={
            "http show status": command_reply(text("cli_http_show_status.txt")),
            "manager show settings": command_reply(text("cli_manager_show_settings.txt")),
            "quectel show devices": command_reply(text("quectel_show_devices.txt")),
            "quectel show device state sim7600":
                command_reply(text("quectel_show_device_state_registered.txt")),
            "quectel show device state sim7600b":
                command_reply(text("quectel_show_device_state_searching.txt")),
        },
    )


EXPECT = Expect(app="secretary", media_transport="rtp", gsm_line=False,
                ari_host="127.0.0.1", ami_host="127.0.0.1")


async def test_without_chan_quectel_the_modem_is_a_warning_pointing_to_the_build() -> None:
    checks = {c.name: c for c in await pbx_checks(fake_pbx(quectel=False), EXPECT)}
    quectel = checks["channel driver chan_quectel"]
    assert quectel.status == "warn" and "scripts/build-chan-quectel" in quectel.fix
    assert "docs/modem.md" in quectel.fix
    assert not any(name.startswith("GSM modem") for name in checks)
    assert checks["channel driver chan_rtp"].status == "ok"
    assert checks["ARI on loopback only"].status == "ok"
    assert checks["AMI on loopback only"].detail == "127.0.0.1:5038"


async def test_with_a_gsm_line_a_missing_chan_quectel_fails() -> None:
    expect = Expect(**{**EXPECT.__dict__, "gsm_line": True})
    checks = {c.name: c for c in await pbx_checks(fake_pbx(quectel=False), expect)}
    assert checks["channel driver chan_quectel"].status == "fail"


async def test_with_chan_quectel_each_modem_is_judged() -> None:
    ami = fake_pbx(quectel=True)
    expect = Expect(**{**EXPECT.__dict__, "gsm_line": True})
    checks = await pbx_checks(ami, expect)
    modems = [(c.name, c.status) for c in checks if c.name.startswith("GSM modem")]
    assert modems == [("GSM modem sim7600", "ok"), ("GSM modem sim7600-offi", "fail"),
                      ("GSM modem sim7600b", "fail")]
    # a modem that is not up is judged from its row alone: an unpatched chan_quectel would
    # crash Asterisk on `device state` for it (docs/modem.md)
    assert "quectel show device state sim7600" in ami.asked
    assert "quectel show device state sim7600-offi" not in ami.asked


async def test_websocket_media_needs_chan_websocket() -> None:
    ami = fake_pbx(quectel=False)
    ami.actions["ModuleCheck chan_websocket"] = loaded(False)
    expect = Expect(**{**EXPECT.__dict__, "media_transport": "websocket"})
    checks = {c.name: c for c in await pbx_checks(ami, expect)}
    assert checks["channel driver chan_websocket"].status == "fail"
    assert "media.transport: websocket" in checks["channel driver chan_websocket"].detail


def test_summary_counts_failures_and_warnings() -> None:
    ok, warn, fail = Check("a", "ok", ""), Check("b", "warn", ""), Check("c", "fail", "")
    assert summary([ok]) == "All checks passed."
    assert summary([ok, warn]) == "All checks passed, 1 warning(s)."
    assert summary([ok, warn, fail]) == "1 problem(s) found, 1 warning(s)."
