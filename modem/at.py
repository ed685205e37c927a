"""A blocking AT command client over pyserial, with timeouts and unsolicited result codes.

The modem tool is a command-line program, not the call path: blocking I/O with a deadline per
command is the simple and right shape here. The line handling (`LineSplitter`, `Transaction`) is
sans-I/O so that it can be reasoned about without a port.

A reply is a run of lines ended by a final result code (OK, ERROR, +CME ERROR: n, ...). Lines the
modem sends on its own (RING, +CLIP: ..., SMS DONE, +CPIN: READY after a PIN, ...) are URCs: they
are set aside in `AtClient.urcs` and never mistaken for the reply, unless they carry the prefix
of the command being answered (AT+CPIN? is answered with the same "+CPIN:" a URC uses).
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from modem.parse import CME_ERRORS


class ModemError(Exception):
    """Base of the modem tool's errors; the message is meant for the admin."""


class PortError(ModemError):
    """The serial port cannot be opened (missing, busy, no permission)."""


class AtTimeout(ModemError):
    def __init__(self, command: str, timeout_s: float, garbled: bool, seen: list[str]) -> None:
        self.command = command
        self.garbled = garbled
        self.seen = seen
        if garbled:
            what = "only unreadable bytes came back (wrong port, or wrong baud rate)"
        elif seen:
            what = f"no final result code after {seen[-3:]!r}"
        else:
            what = "no answer"
        super().__init__(f"{command}: {what} within {timeout_s:g} s")


class AtCommandError(ModemError):
    def __init__(self, command: str, final: str) -> None:
        self.command = command
        self.final = final
        self.code: int | None = None
        detail = final
        kind, _, value = final.partition(":")
        if kind in ("+CME ERROR", "+CMS ERROR"):
            value = value.strip()
            if value.isdigit():
                self.code = int(value)
                if kind == "+CME ERROR" and self.code in CME_ERRORS:
                    detail = f"{final} ({CME_ERRORS[self.code]})"
            else:  # AT+CMEE=2 gives the words instead of the number
                codes = [c for c, text in CME_ERRORS.items() if text.lower() == value.lower()]
                self.code = codes[0] if codes else None
        super().__init__(f"{command}: {detail}")


FINAL_OK = ("OK",)
# The tool never dials, so NO CARRIER / BUSY are call events (URCs) here, not final codes.
FINAL_ERROR = ("ERROR", "+CME ERROR:", "+CMS ERROR:", "COMMAND NOT SUPPORT")
# Unsolicited result codes of the SIM7600 and 27.007 that may arrive between commands.
URC_PREFIXES = ("RING", "+CRING:", "+CLIP:", "+CLCC:", "VOICE CALL:", "MISSED_CALL:", "RDY",
                "SMS DONE", "PB DONE", "+CPIN:", "+CREG:", "+CEREG:", "+CGREG:", "+CMTI:",
                "+CMT:", "+CDS:", "+CUSD:", "+CGEV:", "+CTZV:", "*PSNWID:", "*PSUTTZ:", "DST:",
                "+RXDTMF:", "+CSQN:", "+AUTOCSQ:", "NO CARRIER", "BUSY")


def _garbled(line: str) -> bool:
    return "\ufffd" in line or any(ord(c) < 32 and c != "\t" for c in line)


class LineSplitter:
    """Bytes in, text lines out. The modem frames lines with CR LF; either ends a line."""

    def __init__(self) -> None:
        self._buf = b""

    def feed(self, data: bytes) -> list[str]:
        self._buf += data
        lines: list[str] = []
        while True:
            cut = min((i for i in (self._buf.find(b"\r"), self._buf.find(b"\n")) if i >= 0),
                      default=-1)
            if cut < 0:
                return lines
            raw, self._buf = self._buf[:cut], self._buf[cut + 1:]
            text = raw.decode("utf-8", errors="replace").strip(" ")
            if text:
                lines.append(text)


@dataclass
class Transaction:
    """One command's reply, fed line by line; `done` once a final result code arrives."""

    command: str
    prefix: str | None = None        # "+CSQ" for AT+CSQ; None: every non-URC line is the reply
    info: list[str] = field(default_factory=list)
    urcs: list[str] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)   # neither reply nor URC: kept for messages
    final: str | None = None

    @property
    def done(self) -> bool:
        return self.final is not None

    @property
    def ok(self) -> bool:
        return self.final in FINAL_OK

    def feed(self, line: str) -> None:
        if line.upper() == self.command.upper():  # echo (ATE1, or before ATE0 took effect)
            return
        if self.prefix and line.startswith(self.prefix + ":"):
            self.info.append(line)
        elif line in FINAL_OK or line.startswith(FINAL_ERROR):
            self.final = line
        elif line.startswith(URC_PREFIXES):
            self.urcs.append(line)
        elif self.prefix is None and not _garbled(line):
            self.info.append(line)
        else:
            self.stray.append(line)


class SerialLike(Protocol):
    @property
    def in_waiting(self) -> int: ...
    def write(self, data: bytes, /) -> int | None: ...
    def read(self, size: int = 1, /) -> bytes: ...
    def close(self) -> None: ...


class AtClient:
    """Send a command, wait for its final result code or the deadline; collect URCs."""

    def __init__(self, port: SerialLike, *, timeout_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._port = port
        self._timeout_s = timeout_s
        self._clock = clock
        self._lines = LineSplitter()
        self._pending: list[str] = []
        self.urcs: list[str] = []

    def _next_line(self, deadline: float) -> str | None:
        while not self._pending:
            if self._clock() >= deadline:
                return None
            # read(1) returns at the first byte or after the port's short read timeout;
            # then take whatever else has arrived, without waiting for more.
            data = self._port.read(1)
            if data:
                data += self._port.read(self._port.in_waiting)
                self._pending.extend(self._lines.feed(data))
        return self._pending.pop(0)

    def command(self, command: str, *, prefix: str | None = None,
                timeout_s: float | None = None) -> list[str]:
        """Run `command` (without the trailing CR); return its information lines."""
        timeout = self._timeout_s if timeout_s is None else timeout_s
        tx = Transaction(command, prefix)
        self._port.write(command.encode("ascii") + b"\r")
        deadline = self._clock() + timeout
        while not tx.done:
            line = self._next_line(deadline)
            if line is None:
                self.urcs.extend(tx.urcs)
                seen = tx.info + tx.stray
                raise AtTimeout(command, timeout, any(_garbled(s) for s in tx.stray), seen)
            tx.feed(line)
        self.urcs.extend(tx.urcs)
        if not tx.ok:
            assert tx.final is not None
            raise AtCommandError(command, tx.final)
        return tx.info

    def wait_for_urc(self, prefix: str, timeout_s: float) -> str | None:
        """Wait until a URC starting with `prefix` arrives (or was already set aside)."""
        for urc in self.urcs:
            if urc.startswith(prefix):
                return urc
        deadline = self._clock() + timeout_s
        while (line := self._next_line(deadline)) is not None:
            self.urcs.append(line)
            if line.startswith(prefix):
                return line
        return None

    def close(self) -> None:
        self._port.close()


def open_at_port(path: str, *, baudrate: int = 115200, timeout_s: float = 2.0) -> AtClient:
    """Open `path` exclusively (chan_quectel and ModemManager hold the port the same way)."""
    import serial

    try:
        port = serial.Serial(path, baudrate=baudrate, timeout=0.05, write_timeout=timeout_s,
                             exclusive=True)
    except serial.SerialException as exc:
        err = getattr(exc, "errno", None)
        text = str(exc)
        if err == errno.ENOENT or "No such file" in text:
            raise PortError(f"{path}: no such port (is the modem plugged in and powered?)") \
                from exc
        if err == errno.EACCES or "Permission denied" in text:
            raise PortError(f"{path}: permission denied: add this user to the group that owns "
                            "the port (usually 'dialout') and log in again") from exc
        if err == errno.EBUSY or "lock" in text.lower() or "busy" in text.lower():
            raise PortError(f"{path}: port busy: another program holds it (Asterisk with "
                            "chan_quectel, ModemManager, minicom); stop it first, or ask "
                            "Asterisk: 'quectel show device state <device>'") from exc
        raise PortError(f"{path}: cannot open: {text}") from exc
    return AtClient(port, timeout_s=timeout_s)
