"""Turn what was found (ports, `ModemFacts`) into checks in plain words: ok / warn / fail, each
with what to do. Pure functions: no I/O, so every verdict can be tested from facts alone."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ari_app.doctor.check import Check
from modem.at import AtCommandError, AtTimeout
from modem.parse import CLIP_NETWORK
from modem.ports import UDEV_NAMES, PortScan, stable_name
from modem.probe import ModemFacts, NotAsked


def _code(exc: Exception | None) -> int | None:
    return exc.code if isinstance(exc, AtCommandError) else None


# --- ports --------------------------------------------------------------------------------

def port_checks(scan: PortScan | None, at_port: str | None, audio_port: str | None,
                udev_names: Mapping[str, str] = UDEV_NAMES) -> list[Check]:
    """`scan` is None when the admin named the ports; then only their presence is checked."""
    checks: list[Check] = []
    if scan is not None and not scan.modems:
        if scan.other_simcom:
            others = ", ".join(scan.other_simcom)
            return [Check("USB ports", "fail", f"a SIMCom modem in another USB mode: {others}",
                          "switch it back to the default USB mode (PID 9001) with "
                          "AT+CUSBPIDSWITCH=9001,1,1 on its AT port, then check again")]
        return [Check("USB ports", "fail", "no SIM7600 (USB 1e0e:9001) found",
                      "plug the modem in and power it (a board may need its own supply: a "
                      "USB port that gives too little current resets the modem); "
                      "'lsusb' should list 1e0e:9001")]
    if scan is not None and len(scan.modems) > 1:
        paths = ", ".join(m.usb_path for m in scan.modems)
        checks.append(Check("USB ports", "warn",
                            f"{len(scan.modems)} SIM7600 modems ({paths}); checking the first",
                            "name the modem to check with --at-port and --audio-port"))
    if at_port is None:
        return [*checks, Check("USB ports", "fail", "no AT port (USB interface 2) found",
                               "the option driver did not bind: 'dmesg | grep ttyUSB'")]
    detail = f"AT {at_port}"
    absent = [p for p in (at_port, audio_port) if p is not None and not os.path.exists(p)]
    if absent:
        return [*checks, Check("USB ports", "fail", f"{', '.join(absent)}: no such port",
                               "check the names with 'python -m modem ports' or "
                               "'ls -l /dev/ttyUSB* /dev/sim7600-*'")]
    if audio_port is None:
        checks.append(Check("USB ports", "fail", detail + "; no audio port (USB interface 4)",
                            "chan_quectel needs the audio port for the voice: check "
                            "'ls /dev/ttyUSB*' and pass --audio-port"))
        return checks
    checks.append(Check("USB ports", "ok", f"{detail}, audio {audio_port}"))
    missing = [role for role, dev in (("at", at_port), ("audio", audio_port))
               if not stable_name(role, dev, udev_names)]
    if missing:
        names = ", ".join(udev_names[r] for r in missing if r in udev_names)
        checks.append(Check("Stable port names", "warn", f"no {names} pointing at these ports",
                            "install the udev rules: sudo cp modem/99-sim7600.rules "
                            "/etc/udev/rules.d/ && sudo udevadm control --reload && "
                            "sudo udevadm trigger; ttyUSB numbers change when other USB "
                            "serial devices appear"))
    else:
        checks.append(Check("Stable port names", "ok", ", ".join(udev_names.values())))
    return checks


# --- the modem ----------------------------------------------------------------------------

def modem_checks(facts: ModemFacts, timeout_s: float) -> list[Check]:
    if not facts.responding:
        exc = facts.errors.get("at")
        if isinstance(exc, AtTimeout) and exc.garbled:
            return [Check("AT port", "fail", "the port answers with unreadable bytes",
                          "this is not the AT port (USB interface 2), or the speed is not "
                          "115200 baud")]
        return [Check("AT port", "fail", f"no answer to AT within {timeout_s:g} s",
                      "check that this is the AT port (USB interface 2); a modem just powered "
                      "on needs about 20 s; ModemManager probes modems: "
                      "'sudo systemctl stop ModemManager' (or disable it for this device)")]
    checks = [Check("AT port", "ok", "answers AT")]
    if any(isinstance(e, NotAsked) for e in facts.errors.values()):
        checks[0] = Check("AT port", "fail", "the modem stopped answering during the checks",
                          "power-cycle the modem; if it keeps happening, give it its own "
                          "power supply")
    checks += [_identity(facts), _sim(facts), _signal(facts), _registration(facts),
               _operator(facts), _caller_id(facts), _usb_voice(facts), _audio_format(facts),
               _gains(facts)]
    return checks


def _identity(f: ModemFacts) -> Check:
    detail = f"{f.manufacturer} {f.model}, firmware {f.revision or '?'}, IMEI {f.imei or '?'}"
    if "SIM7600" not in f.model.upper():
        return Check("Modem", "warn", detail.strip(),
                     "these checks and chan_quectel's SimCOM support are for the SIM7600")
    return Check("Modem", "ok", detail)


def _sim(f: ModemFacts) -> Check:
    err = f.errors.get("sim")
    code = _code(err)
    left = f" ({f.pin_attempts.pin} PIN attempts left)" if f.pin_attempts else ""
    if code == 10:
        return Check("SIM card", "fail", "no SIM card in the modem (+CME ERROR: 10)",
                     "power the modem off, insert the SIM card fully, power it on")
    if code == 14:
        return Check("SIM card", "warn", "the SIM is busy (still starting)",
                     "run the check again in a few seconds")
    if code in (13, 15):
        return Check("SIM card", "fail", f"the SIM card does not work ({err})",
                     "re-seat the card; try it in a phone; ask the operator for a new one")
    if f.sim == "READY":
        if f.pin_entered:
            return Check("SIM card", "warn", f"ready after entering the PIN now, ICCID {f.iccid}",
                         "the modem forgets the PIN at power-off and chan_quectel never enters "
                         "one: turn the SIM's PIN lock off (in a phone, or "
                         "AT+CLCK=\"SC\",0,\"<PIN>\")")
        return Check("SIM card", "ok", f"ready, ICCID {f.iccid or '?'}")
    if f.sim == "SIM PIN":
        if f.pin_entered is False:
            return Check("SIM card", "fail", f"the PIN was rejected ({f.errors['pin']}){left}",
                         "check the PIN; once the attempts run out the SIM needs its PUK")
        if "pin" in f.errors:
            return Check("SIM card", "fail", f"the SIM asks for its PIN; {f.errors['pin']}",
                         "enter the PIN in a phone, where the PUK can follow if it is wrong")
        return Check("SIM card", "fail", f"the SIM asks for its PIN{left}",
                     "enter it for this power-up with 'python -m modem diagnose --pin <PIN>'; "
                     "chan_quectel never enters a PIN, so better turn the PIN lock off")
    if f.sim == "SIM PUK":
        return Check("SIM card", "fail", f"the SIM is blocked and asks for its PUK{left}",
                     "get the PUK from the operator and unblock the SIM in a phone")
    if f.sim:
        return Check("SIM card", "fail", f"the SIM asks for {f.sim}",
                     "the modem or SIM is locked; unlock it in a phone or ask the operator")
    return Check("SIM card", "fail", f"SIM state unknown ({err})", "re-seat the SIM card")


_SIM_FIRST = "the SIM is not ready: fix that first, then check again"


def _signal(f: ModemFacts) -> Check:
    s = f.signal
    if s is None:
        return Check("Signal", "fail", f"no reading ({f.errors.get('signal')})", "")
    if s.dbm is None:
        fix = "screw the antenna onto the MAIN connector; see Registration below"
        return Check("Signal", "fail", f"no signal measured (AT+CSQ rssi {s.rssi})",
                     fix if f.sim == "READY" else f"{_SIM_FIRST}; {fix}")
    detail = f"{s.dbm} dBm (CSQ {s.rssi}), {s.quality}"
    if s.quality in ("weak", "very weak"):
        return Check("Signal", "warn", detail, "calls may break up: move the modem or its "
                     "antenna (near a window, higher) or use an external antenna")
    return Check("Signal", "ok", detail)


_REG_FIX = {
    0: "the modem is not searching: its radio may be off (AT+CFUN? should say 1) or no "
       "operator is selected (AT+COPS=0 selects automatically)",
    2: "still searching: wait a minute; if it stays so, check the antenna and that the "
       "operator covers this place",
    3: "the network refused the SIM: is it active and paid, and may it be used in a modem? "
       "Ask the operator",
    4: "check the antenna and the SIM",
}


def _registration(f: ModemFacts) -> Check:
    creg, cereg = f.creg, f.cereg
    parts = [f"voice (CREG): {creg.words}" if creg else "voice (CREG): ?",
             f"LTE (CEREG): {cereg.words}" if cereg else "LTE (CEREG): ?"]
    detail = "; ".join(parts)
    if creg is not None and creg.registered:
        if creg.roaming:
            return Check("Registration", "warn", detail,
                         "roaming: calls work but may cost more; check the SIM's plan")
        return Check("Registration", "ok", detail)
    if cereg is not None and cereg.registered:
        return Check("Registration", "warn", detail,
                     "registered on LTE but not for circuit-switched voice: incoming calls may "
                     "not reach the modem; check with the operator that voice works for this "
                     "SIM in this modem")
    stat = creg.stat if creg else (cereg.stat if cereg else 4)
    fix = _REG_FIX.get(stat, _REG_FIX[4])
    if f.sim != "READY":
        fix = _SIM_FIRST
    return Check("Registration", "fail", detail, fix)


def _operator(f: ModemFacts) -> Check:
    op = f.operator
    if op is None:
        return Check("Operator", "warn", f"unknown ({f.errors.get('operator')})", "")
    if not op.name:
        return Check("Operator", "fail", "none", "see Registration")
    return Check("Operator", "ok", f"{op.name}, {op.act}" if op.act else op.name)


def _caller_id(f: ModemFacts) -> Check:
    if f.clip is None:
        err = f.errors.get("clip")
        if f.sim != "READY":
            return Check("Caller ID", "warn", f"not known ({err})", _SIM_FIRST)
        if _code(err) in (30, 31, 100):
            return Check("Caller ID", "warn", f"could not ask the network ({err})",
                         "check again once the modem is registered")
        return Check("Caller ID", "fail", f"AT+CLIP failed ({err})", "")
    network = f.clip[1]
    words = CLIP_NETWORK[network]
    if network == 1:
        return Check("Caller ID", "ok", "the network shows callers' numbers (CLIP provisioned)")
    if network == 0:
        return Check("Caller ID", "warn", f"CLIP {words}: calls come without the number",
                     "ask the operator to enable caller ID (CLIP) on this SIM")
    return Check("Caller ID", "warn", f"CLIP {words} (the network did not say)",
                 "place a test call and see whether the number arrives")


def _usb_voice(f: ModemFacts) -> Check:
    if f.pcmreg is None:
        err = f.errors.get("pcmreg")
        if isinstance(err, AtCommandError):
            return Check("USB voice", "fail", f"AT+CPCMREG is refused ({err})",
                         "this firmware has no voice over USB, so chan_quectel gets no audio: "
                         "update the SIM7600 firmware to one with USB audio")
        return Check("USB voice", "fail", f"unknown ({err})", "")
    if f.pcmreg == 1:
        return Check("USB voice", "warn", "USB audio is on with no call (AT+CPCMREG: 1)",
                     "chan_quectel switches it on for each call and off after; if it is left "
                     "on, send AT+CPCMREG=0 or power-cycle the modem")
    return Check("USB voice", "ok",
                 "supported (AT+CPCMREG), idle: chan_quectel switches it on for each call")


def _audio_format(f: ModemFacts) -> Check:
    if f.pcm_formats is None:
        return Check("Audio format", "warn", f"unknown ({f.errors.get('pcmfrm')})",
                     "keep slin16=off in quectel.conf")
    now = {0: "8 kHz", 1: "16 kHz"}.get(f.pcm_format if f.pcm_format is not None else -1, "?")
    if 1 in f.pcm_formats:
        return Check("Audio format", "ok",
                     f"8 and 16 kHz supported (now {now}): slin16=on in quectel.conf")
    return Check("Audio format", "ok", f"8 kHz only (now {now}): slin16=off in quectel.conf")


def _gains(f: ModemFacts) -> Check:
    if f.mic_gain is None or f.out_gain is None:
        return Check("Audio gains", "warn", f"unknown ({f.errors.get('gains')})",
                     "leave rxgain/txgain at -1 (the module's own setting)")
    detail = f"AT+CMICGAIN {f.mic_gain}, AT+COUTGAIN {f.out_gain} (range 0-8)"
    if not (0 <= f.mic_gain <= 8 and 0 <= f.out_gain <= 8):
        return Check("Audio gains", "warn", detail, "set them within 0-8")
    return Check("Audio gains", "ok", detail)


# --- report -------------------------------------------------------------------------------

_LABEL = {"ok": "[ ok ]", "warn": "[warn]", "fail": "[FAIL]"}


def format_report(checks: list[Check], title: str = "SIM7600 check") -> str:
    lines = [title]
    for c in checks:
        lines.append(f"{_LABEL[c.status]} {c.name}: {c.detail}")
        if c.fix and c.status != "ok":
            lines.append(f"       what to do: {c.fix}")
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    ok = sum(c.status == "ok" for c in checks)
    lines.append(f"Summary: {failed} failed, {warned} warnings, {ok} ok.")
    return "\n".join(lines)
