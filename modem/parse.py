"""Pure parsers for the SIM7600's AT replies (3GPP TS 27.007 and the SIM7500/SIM7600 AT manual).

No I/O here: every function takes the text of one information line (``+CSQ: 21,99``) and
returns a typed value, or raises :class:`ParseError` naming the command and the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class ParseError(ValueError):
    """A reply line that does not have the documented form."""

    def __init__(self, command: str, line: str, expected: str) -> None:
        super().__init__(f"unexpected reply to {command}: {line!r} (expected {expected})")
        self.command = command
        self.line = line


# +CME ERROR codes (27.007 §9.2) that a voice modem's diagnostics meet.
CME_ERRORS: dict[int, str] = {
    0: "phone failure",
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    11: "SIM PIN required",
    12: "SIM PUK required",
    13: "SIM failure",
    14: "SIM busy",
    15: "SIM wrong",
    16: "incorrect password",
    17: "SIM PIN2 required",
    18: "SIM PUK2 required",
    30: "no network service",
    31: "network timeout",
    32: "network not allowed - emergency calls only",
    100: "unknown",
}


def _fields(command: str, line: str, prefix: str) -> list[str]:
    if not line.startswith(prefix + ":"):
        raise ParseError(command, line, f"'{prefix}: ...'")
    body = line[len(prefix) + 1:].strip()
    return [f.strip() for f in body.split(",")] if body else []


def _int(command: str, line: str, text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ParseError(command, line, f"a number for {what}") from None


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


# --- signal -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Signal:
    rssi: int          # 0-31 (GSM/UMTS/LTE), 100-191 (TD-SCDMA), 99 unknown
    ber: int           # 0-7, 99 unknown
    dbm: int | None    # None when the modem does not know (rssi 99/199)

    @property
    def quality(self) -> str:
        return signal_quality(self.dbm)


def rssi_to_dbm(rssi: int) -> int | None:
    """AT+CSQ <rssi> to dBm: 0 is -113 dBm or less, 2..30 step 2 dB, 31 is -51 dBm or more;
    the SIM7600 adds 100 (-116 dBm or less) .. 191 (-25 dBm or more) in 1 dB steps."""
    if 0 <= rssi <= 31:
        return -113 + 2 * rssi
    if 100 <= rssi <= 191:
        return -116 + (rssi - 100)
    return None


def signal_quality(dbm: int | None) -> str:
    """Plain words for a level. The bands are the usual ones for CSQ readings
    (>= -73 excellent, -83..-75 good, -93..-85 fair, below that weak)."""
    if dbm is None:
        return "no signal"
    if dbm >= -73:
        return "excellent"
    if dbm >= -83:
        return "good"
    if dbm >= -93:
        return "fair"
    if dbm >= -103:
        return "weak"
    return "very weak"


def parse_csq(line: str) -> Signal:
    f = _fields("AT+CSQ", line, "+CSQ")
    if len(f) != 2:
        raise ParseError("AT+CSQ", line, "'+CSQ: <rssi>,<ber>'")
    rssi = _int("AT+CSQ", line, f[0], "rssi")
    ber = _int("AT+CSQ", line, f[1], "ber")
    if not (0 <= rssi <= 31 or rssi == 99 or 100 <= rssi <= 191 or rssi == 199):
        raise ParseError("AT+CSQ", line, "rssi 0-31, 99 or 100-191, 199")
    return Signal(rssi, ber, rssi_to_dbm(rssi))


# --- registration -------------------------------------------------------------------------

REG_STATES: dict[int, str] = {
    0: "not registered, not searching",
    1: "registered, home network",
    2: "not registered, searching",
    3: "registration denied",
    4: "unknown",
    5: "registered, roaming",
    6: "registered for SMS only, home network",
    7: "registered for SMS only, roaming",
    8: "emergency services only",
    11: "emergency bearer services only",
}


@dataclass(frozen=True)
class Registration:
    command: str          # "AT+CREG" or "AT+CEREG"
    stat: int
    area: str = ""        # LAC (CREG) or TAC (CEREG), hex
    cell: str = ""

    @property
    def registered(self) -> bool:
        return self.stat in (1, 5)

    @property
    def roaming(self) -> bool:
        return self.stat in (5, 7)

    @property
    def words(self) -> str:
        return REG_STATES.get(self.stat, f"state {self.stat}")


def parse_registration(line: str, prefix: str = "+CREG", *, read_form: bool = True) -> Registration:
    """``+CREG: <n>,<stat>[,<lac>,<ci>[,<AcT>]]`` (reply to the read command, read_form=True)
    or ``+CREG: <stat>[,<lac>,<ci>]`` (the unsolicited form); the same for +CEREG."""
    command = "AT" + prefix
    f = _fields(command, line, prefix)
    start = 1 if read_form else 0
    if len(f) <= start:
        raise ParseError(command, line, f"'{prefix}: <n>,<stat>...'")
    stat = _int(command, line, f[start], "stat")
    if stat not in REG_STATES:
        raise ParseError(command, line, "a registration state 0-11")
    area = _unquote(f[start + 1]) if len(f) > start + 1 else ""
    cell = _unquote(f[start + 2]) if len(f) > start + 2 else ""
    return Registration(command, stat, area, cell)


# --- operator -----------------------------------------------------------------------------

ACCESS_TECH: dict[int, str] = {0: "GSM", 2: "UTRAN (3G)", 3: "GSM/EGPRS", 4: "HSDPA",
                               5: "HSUPA", 6: "HSPA", 7: "LTE", 8: "CDMA/EVDO"}


@dataclass(frozen=True)
class Operator:
    mode: int
    name: str = ""        # empty when the modem has no operator
    act: str = ""


def parse_cops(line: str) -> Operator:
    """``+COPS: <mode>[,<format>,"<oper>"[,<AcT>]]``."""
    m = re.fullmatch(r'\+COPS:\s*(\d+)(?:,(\d+),"([^"]*)"(?:,(\d+))?)?\s*', line)
    if not m:
        raise ParseError("AT+COPS?", line, "'+COPS: <mode>[,<format>,\"<oper>\"[,<AcT>]]'")
    act = ACCESS_TECH.get(int(m.group(4)), f"AcT {m.group(4)}") if m.group(4) else ""
    return Operator(int(m.group(1)), m.group(3) or "", act)


# --- SIM ----------------------------------------------------------------------------------

CPIN_STATES = ("READY", "SIM PIN", "SIM PUK", "PH-SIM PIN", "SIM PIN2", "SIM PUK2",
               "PH-NET PIN")


def parse_cpin(line: str) -> str:
    m = re.fullmatch(r"\+CPIN:\s*(.+?)\s*", line)
    if not m or m.group(1) not in CPIN_STATES:
        raise ParseError("AT+CPIN?", line, "'+CPIN: READY|SIM PIN|SIM PUK|...'")
    return m.group(1)


@dataclass(frozen=True)
class PinAttempts:
    pin: int
    puk: int


def parse_spic(line: str) -> PinAttempts:
    """``+SPIC: <pin1>,<puk1>,<pin2>,<puk2>``: attempts left (SIM7600 AT+SPIC)."""
    f = _fields("AT+SPIC", line, "+SPIC")
    if len(f) != 4:
        raise ParseError("AT+SPIC", line, "'+SPIC: <pin1>,<puk1>,<pin2>,<puk2>'")
    return PinAttempts(_int("AT+SPIC", line, f[0], "pin1"), _int("AT+SPIC", line, f[1], "puk1"))


def parse_digits(command: str, line: str, length: range) -> str:
    """IMEI (AT+CGSN, 15 digits) and IMSI (AT+CIMI, up to 15 digits) come as bare digits."""
    text = line.strip()
    if not text.isdigit() or len(text) not in length:
        raise ParseError(command, line, f"{length.start}-{length.stop - 1} digits")
    return text


def parse_iccid(line: str) -> str:
    m = re.fullmatch(r"\+ICCID:\s*([0-9A-Fa-f]{18,22})\s*", line)
    if not m:
        raise ParseError("AT+CICCID", line, "'+ICCID: <18-22 digits>'")
    return m.group(1)


def parse_cgmr(line: str) -> str:
    return line.split(":", 1)[1].strip() if line.startswith("+CGMR:") else line.strip()


# --- caller ID and audio ------------------------------------------------------------------

CLIP_NETWORK = {0: "not provisioned", 1: "provisioned", 2: "unknown"}


def parse_clip(line: str) -> tuple[int, int]:
    """``+CLIP: <n>,<m>``: n is our setting, m the network's CLIP service state."""
    f = _fields("AT+CLIP?", line, "+CLIP")
    if len(f) != 2:
        raise ParseError("AT+CLIP?", line, "'+CLIP: <n>,<m>'")
    n = _int("AT+CLIP?", line, f[0], "n")
    m = _int("AT+CLIP?", line, f[1], "m")
    if m not in CLIP_NETWORK:
        raise ParseError("AT+CLIP?", line, "m 0-2")
    return n, m


def parse_single_int(command: str, line: str, prefix: str) -> int:
    """Replies with one number: ``+CPCMREG: 0``, ``+CPCMFRM: 1``, ``+CMICGAIN: 3``."""
    f = _fields(command, line, prefix)
    if not f:
        raise ParseError(command, line, f"'{prefix}: <value>'")
    return _int(command, line, f[0], prefix[1:])


def parse_range(command: str, line: str, prefix: str) -> set[int]:
    """A test-command reply such as ``+CPCMFRM: (0-1)`` or ``+CMICGAIN: (0-8)``."""
    m = re.fullmatch(re.escape(prefix) + r":\s*\(([0-9,\-\s]+)\)\s*", line)
    if not m:
        raise ParseError(command, line, f"'{prefix}: (<a>-<b>)'")
    values: set[int] = set()
    for part in m.group(1).split(","):
        lo, _, hi = part.strip().partition("-")
        values.update(range(int(lo), int(hi or lo) + 1))
    return values
