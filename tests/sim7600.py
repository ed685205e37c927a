"""A SIMULATION of a SIMCom SIM7600G-H's AT command port on a pseudo-terminal.

This is not a modem and talks to no network. It answers the AT commands the modem tool sends
the way the SIM7500/SIM7600 AT command manual documents them (information lines framed by
CR LF, then OK or ERROR / +CME ERROR: <n> according to AT+CMEE, echo until ATE0), so that the
real `modem` code (pyserial, the AT client, the probe, the report) can run end to end in tests.
The values it reports (IMEI, IMSI, operator, levels) are made up.

Scenarios (`SCENARIOS`): healthy, roaming, no_sim, pin_required, no_network, denied,
no_usb_voice, foreign (a non-Russian SIM), garbage (noise instead of replies, as from the wrong
port or baud rate) and silent (never answers).

    with Sim7600Simulator(SCENARIOS["healthy"]) as sim:
        serial.Serial(sim.port)  # ... the modem's AT port
"""

from __future__ import annotations

import os
import select
import threading
import tty
from dataclasses import dataclass, field, replace

CME_TEXT = {3: "operation not allowed", 4: "operation not supported", 10: "SIM not inserted",
            11: "SIM PIN required", 12: "SIM PUK required", 16: "incorrect password",
            30: "no network service"}


@dataclass(frozen=True)
class Scenario:
    name: str
    sim: str = "READY"              # READY, SIM PIN, SIM PUK, or ABSENT (no card)
    pin: str = "1234"
    pin_attempts: int = 3
    creg: int = 1                   # 27.007 registration state for AT+CREG? and AT+CEREG?
    cereg: int = 1
    rssi: int = 23
    operator: str = "MegaFon"
    act: int = 7                    # LTE
    clip_network: int = 1           # AT+CLIP? <m>: 0 not provisioned, 1 provisioned, 2 unknown
    imsi: str = "250021234567890"
    usb_voice: bool = True          # firmware with AT+CPCMREG
    pcm_16k: bool = True            # firmware with AT+CPCMFRM (8/16 kHz)
    garbage: bool = False
    silent: bool = False
    # URCs the simulated modem sends just before its reply to a command, as a real one may.
    urcs_before: dict[str, list[str]] = field(default_factory=dict)


HEALTHY = Scenario("healthy", urcs_before={
    "AT+CSQ": ["RING", '+CLIP: "+79161234567",145,,,,0'],
})
SCENARIOS: dict[str, Scenario] = {
    "healthy": HEALTHY,
    "roaming": replace(HEALTHY, name="roaming", creg=5, cereg=5, urcs_before={}),
    "no_sim": Scenario("no_sim", sim="ABSENT", creg=0, cereg=0, rssi=99),
    "pin_required": Scenario("pin_required", sim="SIM PIN"),
    "no_network": Scenario("no_network", creg=2, cereg=2, rssi=99),
    "denied": Scenario("denied", creg=3, cereg=3, rssi=18),
    "no_usb_voice": Scenario("no_usb_voice", usb_voice=False, pcm_16k=False),
    "foreign": Scenario("foreign", imsi="234150123456789", operator="Vodafone UK",
                        pcm_16k=False),
    "garbage": Scenario("garbage", garbage=True),
    "silent": Scenario("silent", silent=True),
}

NOISE = b"\x7e\x00\xfe\xff\x13\x88\x9c\r\n\xc3\x28\xa0\xa1\xff\x7e\r\n"


class Sim7600Simulator:
    """The simulated modem's AT port: `port` is the pty path the code under test opens."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.commands: list[str] = []
        self.sim = scenario.sim
        self.pin_attempts = scenario.pin_attempts
        self.echo = True
        self.cmee = 0
        self.creg_n = 0
        self.pcmreg = 0
        self.pcmfrm = 0
        self.gains = {"+CMICGAIN": 3, "+COUTGAIN": 5}
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="sim7600", daemon=True)

    def __enter__(self) -> Sim7600Simulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            os.close(fd)

    # --- the wire -------------------------------------------------------------------------

    def _run(self) -> None:
        buf = b""
        while not self._stop:
            ready, _, _ = select.select([self._master, self._wake_r], [], [], 0.5)
            if self._master not in ready:
                continue
            try:
                buf += os.read(self._master, 1024)
            except OSError:
                return
            while b"\r" in buf:
                raw, buf = buf.split(b"\r", 1)
                command = raw.decode("ascii", errors="replace").strip("\n ")
                if command:
                    self._answer(command)

    def _send(self, data: bytes) -> None:
        os.write(self._master, data)

    def _answer(self, command: str) -> None:
        self.commands.append(command)
        s = self.scenario
        if s.silent:
            return
        if s.garbage:
            self._send(NOISE)
            return
        if self.echo:
            self._send(command.encode() + b"\r")
        lines, after = self._handle(command)
        lines = [*s.urcs_before.get(command.upper(), []), *lines]
        self._send(b"".join(b"\r\n" + line.encode() + b"\r\n" for line in lines))
        if after:  # URCs that follow the reply (e.g. the SIM coming up after its PIN)
            self._send(b"".join(b"\r\n" + line.encode() + b"\r\n" for line in after))

    # --- the modem ------------------------------------------------------------------------

    def _error(self, code: int) -> list[str]:
        if self.cmee == 1:
            return [f"+CME ERROR: {code}"]
        if self.cmee == 2:
            return [f"+CME ERROR: {CME_TEXT[code]}"]
        return ["ERROR"]

    def _sim_error(self) -> list[str] | None:
        code = {"ABSENT": 10, "SIM PIN": 11, "SIM PUK": 12}.get(self.sim)
        return self._error(code) if code else None

    def _registered(self) -> bool:
        return self.sim == "READY" and self.scenario.creg in (1, 5)

    def _reg(self, prefix: str, stat: int) -> list[str]:
        stat = stat if self.sim == "READY" else 0
        extra = ',"1A2B","0C3D4E5"' if self.creg_n == 2 and stat in (1, 5) else ""
        return [f"{prefix}: {self.creg_n},{stat}{extra}", "OK"]

    def _handle(self, command: str) -> tuple[list[str], list[str]]:
        s = self.scenario
        cmd = command.upper()
        ok = ["OK"]
        if cmd == "AT":
            return ok, []
        if cmd in ("ATE0", "ATE1"):
            self.echo = cmd == "ATE1"
            return ok, []
        if cmd == "ATI":
            return ["Manufacturer: SIMCOM INCORPORATED", "Model: SIMCOM_SIM7600G-H",
                    "Revision: LE20B04SIM7600G22", "IMEI: 861234050000012", "+GCAP: +CGSM",
                    "OK"], []
        if cmd.startswith("AT+CMEE="):
            value = cmd.removeprefix("AT+CMEE=")
            if value not in ("0", "1", "2"):
                return self._error(4), []
            self.cmee = int(value)
            return ok, []
        simple = {"AT+CGMI": "SIMCOM INCORPORATED", "AT+CGMM": "SIMCOM_SIM7600G-H",
                  "AT+CGMR": "+CGMR: LE20B04SIM7600G22", "AT+CGSN": "861234050000012"}
        if cmd in simple:
            return [simple[cmd], "OK"], []
        if cmd == "AT+CPIN?":
            if self.sim == "ABSENT":
                return self._error(10), []
            return [f"+CPIN: {self.sim}", "OK"], []
        if cmd.startswith("AT+CPIN="):
            return self._enter_pin(command[len("AT+CPIN="):].strip('"'))
        if cmd == "AT+SPIC":
            return [f"+SPIC: {self.pin_attempts},10,3,10", "OK"], []
        if cmd in ("AT+CIMI", "AT+CICCID"):
            err = self._sim_error()
            if err:
                return err, []
            return ([s.imsi, "OK"] if cmd == "AT+CIMI" else
                    ["+ICCID: 89701012345678901234", "OK"]), []
        if cmd == "AT+CSQ":
            return [f"+CSQ: {s.rssi},99", "OK"], []
        if cmd in ("AT+CREG?", "AT+CEREG?"):
            prefix = cmd[2:-1]
            return self._reg(prefix, s.creg if prefix == "+CREG" else s.cereg), []
        if cmd in ("AT+CREG=2", "AT+CREG=0", "AT+CEREG=2", "AT+CEREG=0"):
            self.creg_n = int(cmd[-1])
            return ok, []
        if cmd == "AT+COPS?":
            if self._registered():
                return [f'+COPS: 0,0,"{s.operator}",{s.act}', "OK"], []
            return ["+COPS: 0", "OK"], []
        if cmd in ("AT+CLIP=1", "AT+CLIP=0"):
            return ok, []
        if cmd == "AT+CLIP?":
            err = self._sim_error()
            if err:
                return err, []
            if not self._registered():
                return self._error(30), []
            return [f"+CLIP: 1,{s.clip_network}", "OK"], []
        return self._audio(cmd)

    def _enter_pin(self, pin: str) -> tuple[list[str], list[str]]:
        if self.sim == "ABSENT":
            return self._error(10), []
        if self.sim != "SIM PIN":
            return self._error(3), []
        if pin != self.scenario.pin:
            self.pin_attempts -= 1
            if self.pin_attempts == 0:
                self.sim = "SIM PUK"
            return self._error(16), []
        self.sim = "READY"
        self.pin_attempts = self.scenario.pin_attempts
        return ["OK"], ["+CPIN: READY", "SMS DONE", "PB DONE"]

    def _audio(self, cmd: str) -> tuple[list[str], list[str]]:
        s = self.scenario
        if cmd.startswith("AT+CPCMREG"):
            if not s.usb_voice:
                return ["ERROR"], []
            if cmd == "AT+CPCMREG?":
                return [f"+CPCMREG: {self.pcmreg}", "OK"], []
            if cmd in ("AT+CPCMREG=0", "AT+CPCMREG=1"):
                self.pcmreg = int(cmd[-1])
                return ["OK"], []
        if cmd.startswith("AT+CPCMFRM") and s.pcm_16k:
            if cmd == "AT+CPCMFRM=?":
                return ["+CPCMFRM: (0-1)", "OK"], []
            if cmd == "AT+CPCMFRM?":
                return [f"+CPCMFRM: {self.pcmfrm}", "OK"], []
            if cmd in ("AT+CPCMFRM=0", "AT+CPCMFRM=1"):
                self.pcmfrm = int(cmd[-1])
                return ["OK"], []
        for prefix in self.gains:
            at = "AT" + prefix
            if cmd == at + "?":
                return [f"{prefix}: {self.gains[prefix]}", "OK"], []
            if cmd == at + "=?":
                return [f"{prefix}: (0-8)", "OK"], []
            if cmd.startswith(at + "="):
                value = cmd[len(at) + 1:]
                if not value.isdigit() or int(value) > 8:
                    return ["ERROR"], []
                self.gains[prefix] = int(value)
                return ["OK"], []
        return ["ERROR"], []
