"""chan_quectel's CLI answers, read and judged: is each GSM modem ready to take calls?

Formats as src/cli.c of RoEdAl/asterisk-chan-quectel prints them at the commit
scripts/build-chan-quectel builds (5552c365bfb3). `quectel show devices` is a table of
fixed-width columns: ID (12), Group (5), State (10), RSSI (4), Mode (4), then provider, model,
firmware, IMEI, IMSI and number; longer values are cut, so "Not connected" reads "Not connec"
and a 14-letter ID loses its end. `quectel show device state <ID>` prints `  Key : value`
lines, among them "GSM Registration Status", "RSSI" and "Provider Name".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ari_app.doctor.check import Check, Status

# The State column's values cut to 10 characters, and what they mean for a caller.
_BAD_STATES = {
    "Stopped": ("stopped", "start it: `quectel start {id}`"),
    "Not connected": ("not connected: its serial ports are gone (USB unplugged, or wrong "
                      "data= / audio= in quectel.conf)", "check the cable and quectel.conf, "
                      "then `quectel restart now {id}`"),
    "Not initialized": ("not initialised: no SIM, a SIM PIN, or still starting",
                        "insert an active SIM without PIN; wait a minute and run doctor again"),
    "GSM not registered": ("not on the GSM network", "check the antenna and the SIM"),
}
_FULL_STATE = {name[:10]: name for name in _BAD_STATES}
_REGISTERED = ("Registered, home network", "Registered, roaming")
_REGISTRATION_FIX = {
    "Registration denied": "the network refused the SIM: check in a phone that it is "
                           "active and paid for",
    "Not registered, but searching": "no network found yet: check the antenna and coverage",
    "Attached for emergency bearer services only": "the network does not accept the SIM "
                                                   "(emergency calls only): check it is active",
}
_SMS_ONLY_FIX = "the network gives this SIM SMS only: ask the operator to enable voice calls"
# AT+CSQ 0-31 (99: not known); below 10 (-95 dBm) calls break up or drop (the usual field
# guidance for GSM modems: 10-14 fair, 15-19 good, 20+ excellent).
WEAK_RSSI = 10


@dataclass(frozen=True)
class ModemRow:
    """One line of `quectel show devices`."""

    id: str
    group: int
    state: str
    rssi: int | None
    mode: int | None


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def parse_devices(text: str) -> list[ModemRow]:
    """The rows of `quectel show devices` (the header and odd lines are skipped)."""
    rows = []
    for line in text.splitlines():
        group = _int(line[13:18].strip())
        if line.startswith("ID ") or group is None or not line[:12].strip():
            continue
        state = line[19:29].strip()
        rows.append(ModemRow(
            id=line[:12].strip(), group=group, state=_FULL_STATE.get(state, state),
            rssi=_int(line[30:34].strip()), mode=_int(line[35:39].strip()),
        ))
    return rows


def parse_device_state(text: str) -> dict[str, str]:
    """`Key : value` pairs of `quectel show device state <ID>`; {} for an unknown device."""
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(" : ")
        if sep and key.strip():
            pairs.setdefault(key.strip(), value.strip())
    return pairs


def signal_dbm(rssi: int | None) -> str:
    """AT+CSQ's RSSI in words, as chan_quectel's rssi2dBm has it."""
    if rssi is None or rssi > 31:
        return "unknown"
    if rssi <= 0:
        return "<= -113 dBm"
    if rssi == 31:
        return ">= -51 dBm"
    return f"{2 * rssi - 113} dBm"


def judge_modem(row: ModemRow, state: Mapping[str, str], required: bool) -> Check:
    """One modem's Check. `state` may be empty (the ID was cut, or the query failed).

    Problems fail when a GSM line is expected (`required`), else warn: a chan_quectel loaded
    with its sample quectel.conf and no modem is not an error of the secretary's."""
    reg = state.get("GSM Registration Status", "")
    rssi = _int(state.get("RSSI", "").split(",")[0].strip()) if "RSSI" in state else row.rssi
    words = [row.state, reg or "registration unknown", f"signal {signal_dbm(rssi)}"]
    network = " ".join(x for x in (state.get("Provider Name"), state.get("Access technology"))
                       if x)
    if network:
        words.append(network)
    detail = ", ".join(words)
    problem: tuple[str, str] | None = None
    if row.state in _BAD_STATES and (row.state != "GSM not registered" or not reg):
        problem = _BAD_STATES[row.state]
    elif reg and reg not in _REGISTERED:
        fix = _SMS_ONLY_FIX if reg.startswith("Registered for") else _REGISTRATION_FIX.get(
            reg, "check the SIM, the antenna and coverage")
        problem = (f"not registered for calls ({reg})", fix)
    name = f"GSM modem {row.id}"
    if problem is not None:
        status: Status = "fail" if required else "warn"
        return Check(name, status, f"{problem[0]}; {detail}", problem[1].format(id=row.id))
    if rssi is None or rssi > 31 or rssi < WEAK_RSSI:
        return Check(name, "warn", f"weak or unknown signal; {detail}",
                     "move the modem or its antenna (a window, higher up, away from metal)")
    return Check(name, "ok", detail)
