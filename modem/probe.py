"""Ask the SIM7600 what a voice line depends on; collect the answers as `ModemFacts`.

Every query is independent: a failed or odd answer is kept in `ModemFacts.errors` under the
fact's name and the probe goes on, so that the report can say everything that is wrong at once.
If the modem stops answering altogether, the remaining queries are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from modem.at import AtClient, AtCommandError, AtTimeout, ModemError
from modem.parse import (
    Operator,
    ParseError,
    PinAttempts,
    Registration,
    Signal,
    parse_cgmr,
    parse_clip,
    parse_cops,
    parse_cpin,
    parse_csq,
    parse_digits,
    parse_iccid,
    parse_range,
    parse_registration,
    parse_single_int,
    parse_spic,
)

T = TypeVar("T")

# AT+COPS? and AT+CLIP? may wait for the network; the SIM7600 manual allows them seconds.
NETWORK_TIMEOUT_S = 10.0
# After AT+CPIN=<pin> the SIM7600 reports "+CPIN: READY" once the SIM has accepted it.
PIN_READY_TIMEOUT_S = 10.0


class NotAsked(ModemError):
    """A query skipped because the modem had stopped answering."""


@dataclass
class ModemFacts:
    responding: bool = False
    manufacturer: str = ""
    model: str = ""
    revision: str = ""
    imei: str = ""
    sim: str | None = None              # READY, SIM PIN, SIM PUK, ... (None: unknown)
    pin_attempts: PinAttempts | None = None
    pin_entered: bool | None = None     # None: no PIN was given or needed
    imsi: str = ""
    iccid: str = ""
    signal: Signal | None = None
    creg: Registration | None = None
    cereg: Registration | None = None
    operator: Operator | None = None
    clip: tuple[int, int] | None = None
    pcmreg: int | None = None
    pcm_formats: set[int] | None = None  # AT+CPCMFRM=?: 0 = 8 kHz, 1 = 16 kHz
    pcm_format: int | None = None
    mic_gain: int | None = None
    out_gain: int | None = None
    urcs: list[str] = field(default_factory=list)
    errors: dict[str, Exception] = field(default_factory=dict)


class _Prober:
    def __init__(self, client: AtClient, facts: ModemFacts, network_timeout_s: float) -> None:
        self.client = client
        self.facts = facts
        self.network_timeout_s = network_timeout_s
        self.lost = False

    def ask(self, key: str, query: Callable[[], T]) -> T | None:
        if self.lost:
            self.facts.errors[key] = NotAsked("not asked: the modem had stopped answering")
            return None
        try:
            return query()
        except AtTimeout as exc:
            self.facts.errors[key] = exc
            if not self.ping():
                self.lost = True
        except (ModemError, ParseError) as exc:
            self.facts.errors[key] = exc
        return None

    def ping(self, tries: int = 1) -> bool:
        for attempt in range(tries):
            try:
                self.client.command("AT")
                return True
            except AtCommandError:
                return True     # an ERROR is an answer
            except AtTimeout as exc:
                if attempt == tries - 1:
                    self.facts.errors.setdefault("at", exc)
        return False

    def one(self, command: str, prefix: str | None, timeout_s: float | None = None) -> str:
        lines = self.client.command(command, prefix=prefix, timeout_s=timeout_s)
        if not lines:
            raise ParseError(command, "", "an information line before OK")
        return lines[0]


def probe(client: AtClient, *, pin: str | None = None,
          network_timeout_s: float = NETWORK_TIMEOUT_S) -> ModemFacts:
    facts = ModemFacts()
    p = _Prober(client, facts, network_timeout_s)
    # The first command after opening the port may be lost in the modem's boot chatter.
    if not p.ping(tries=3):
        return facts
    facts.responding = True
    facts.errors.pop("at", None)
    p.ask("setup", lambda: client.command("ATE0"))        # no echo
    p.ask("setup", lambda: client.command("AT+CMEE=1"))   # numbered +CME ERROR codes

    facts.manufacturer = p.ask("identity", lambda: p.one("AT+CGMI", None)) or ""
    facts.model = p.ask("identity", lambda: p.one("AT+CGMM", None)) or ""
    facts.revision = p.ask("identity", lambda: parse_cgmr(p.one("AT+CGMR", None))) or ""
    facts.imei = p.ask("imei", lambda: parse_digits(
        "AT+CGSN", p.one("AT+CGSN", None), range(14, 18))) or ""

    _sim(p, pin)
    if facts.sim == "READY":
        facts.imsi = p.ask("imsi", lambda: parse_digits(
            "AT+CIMI", p.one("AT+CIMI", None), range(6, 16))) or ""
        facts.iccid = p.ask("iccid", lambda: parse_iccid(p.one("AT+CICCID", "+ICCID"))) or ""

    facts.signal = p.ask("signal", lambda: parse_csq(p.one("AT+CSQ", "+CSQ")))
    facts.creg = p.ask("creg", lambda: parse_registration(p.one("AT+CREG?", "+CREG"), "+CREG"))
    facts.cereg = p.ask("cereg", lambda: parse_registration(
        p.one("AT+CEREG?", "+CEREG"), "+CEREG"))
    facts.operator = p.ask("operator", lambda: parse_cops(
        p.one("AT+COPS?", "+COPS", network_timeout_s)))

    if p.ask("clip", lambda: client.command("AT+CLIP=1")) is not None:
        facts.clip = p.ask("clip", lambda: parse_clip(
            p.one("AT+CLIP?", "+CLIP", network_timeout_s)))

    facts.pcmreg = p.ask("pcmreg", lambda: parse_single_int(
        "AT+CPCMREG?", p.one("AT+CPCMREG?", "+CPCMREG"), "+CPCMREG"))
    facts.pcm_formats = p.ask("pcmfrm", lambda: parse_range(
        "AT+CPCMFRM=?", p.one("AT+CPCMFRM=?", "+CPCMFRM"), "+CPCMFRM"))
    facts.pcm_format = p.ask("pcmfrm", lambda: parse_single_int(
        "AT+CPCMFRM?", p.one("AT+CPCMFRM?", "+CPCMFRM"), "+CPCMFRM"))
    facts.mic_gain = p.ask("gains", lambda: parse_single_int(
        "AT+CMICGAIN?", p.one("AT+CMICGAIN?", "+CMICGAIN"), "+CMICGAIN"))
    facts.out_gain = p.ask("gains", lambda: parse_single_int(
        "AT+COUTGAIN?", p.one("AT+COUTGAIN?", "+COUTGAIN"), "+COUTGAIN"))
    facts.urcs = list(client.urcs)
    return facts


def _sim(p: _Prober, pin: str | None) -> None:
    facts, client = p.facts, p.client
    facts.sim = p.ask("sim", lambda: parse_cpin(p.one("AT+CPIN?", "+CPIN")))
    if facts.sim in ("SIM PIN", "SIM PUK"):
        facts.pin_attempts = p.ask("pin_attempts", lambda: parse_spic(p.one("AT+SPIC", "+SPIC")))
    if facts.sim != "SIM PIN" or pin is None:
        return
    if facts.pin_attempts is not None and facts.pin_attempts.pin <= 1:
        facts.errors["pin"] = ModemError(
            "the PIN was not entered: one attempt is left, and a wrong PIN would block the SIM")
        return
    try:
        client.command(f"AT+CPIN={pin}", timeout_s=5.0)
    except ModemError as exc:
        facts.pin_entered = False
        facts.errors["pin"] = exc
        facts.pin_attempts = p.ask("pin_attempts", lambda: parse_spic(p.one("AT+SPIC", "+SPIC")))
        return
    facts.pin_entered = True
    client.wait_for_urc("+CPIN: READY", PIN_READY_TIMEOUT_S)
    facts.sim = p.ask("sim", lambda: parse_cpin(p.one("AT+CPIN?", "+CPIN")))
    _settle_sim(p)


def _settle_sim(p: _Prober, tries: int = 5, pause_s: float = 1.0) -> None:
    """Right after the PIN the SIM may answer +CME ERROR: 14 (SIM busy) for a moment."""
    for _ in range(tries):
        try:
            p.client.command("AT+CIMI")
            return
        except AtCommandError as exc:
            if exc.code != 14:
                return
            time.sleep(pause_s)
        except ModemError:
            return
