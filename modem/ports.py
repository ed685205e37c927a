"""Find the SIM7600's serial ports among the host's USB serial devices.

In its default USB composition (VID 0x1e0e, PID 0x9001) the SIM7600 exposes, by USB interface
number: 0 diagnostics, 1 GPS NMEA, 2 AT commands, 3 modem (PPP), 4 audio (PCM voice over USB,
what chan_quectel's `audio=` reads and writes), 5 the network interface (no tty). The kernel's
option driver makes them /dev/ttyUSB0..4 on a host with no other USB serial device, but the
numbers move when another one is plugged in first; the interface numbers do not, and the udev
rules in modem/99-sim7600.rules name the AT and audio ports by them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SIMCOM_VID = 0x1E0E
SIM7600_PID = 0x9001
INTERFACE_ROLES: dict[int, str] = {0: "diag", 1: "nmea", 2: "at", 3: "ppp", 4: "audio"}
UDEV_NAMES: dict[str, str] = {"at": "/dev/sim7600-at", "audio": "/dev/sim7600-audio"}


@dataclass(frozen=True)
class ModemPorts:
    usb_path: str                         # "1-1.2": where the modem sits on the USB tree
    serial_number: str | None
    ports: dict[str, str] = field(default_factory=dict)    # role -> /dev/ttyUSBn

    @property
    def at(self) -> str | None:
        return self.ports.get("at")

    @property
    def audio(self) -> str | None:
        return self.ports.get("audio")


@dataclass(frozen=True)
class PortScan:
    modems: list[ModemPorts]
    other_simcom: list[str]    # SIMCom ports in another USB mode: "/dev/ttyUSB0 (1e0e:9011)"


def interface_number(location: str | None) -> int | None:
    """pyserial's `location` of a multi-interface device is the sysfs interface name,
    "<bus>-<port path>:<configuration>.<interface>", e.g. "1-1.2:1.4" -> 4."""
    if not location or ":" not in location:
        return None
    _, _, tail = location.rpartition(":")
    _, _, number = tail.partition(".")
    return int(number) if number.isdigit() else None


def _comports() -> list[Any]:
    from serial.tools import list_ports

    return list(list_ports.comports())


def scan_ports(ports: Iterable[Any] | None = None) -> PortScan:
    """Group the SIM7600 ports by modem. `ports` are pyserial ListPortInfo objects
    (default: this host's, from serial.tools.list_ports)."""
    by_modem: dict[str, dict[str, str]] = {}
    serials: dict[str, str | None] = {}
    other: list[str] = []
    for info in (_comports() if ports is None else ports):
        if info.vid != SIMCOM_VID:
            continue
        if info.pid != SIM7600_PID:
            other.append(f"{info.device} ({info.vid:04x}:{info.pid:04x})")
            continue
        number = interface_number(info.location)
        role = INTERFACE_ROLES.get(number) if number is not None else None
        if role is None:
            continue
        usb_path = info.location.rpartition(":")[0]
        by_modem.setdefault(usb_path, {})[role] = info.device
        serials[usb_path] = info.serial_number
    modems = [ModemPorts(path, serials[path], dict(sorted(roles.items())))
              for path, roles in sorted(by_modem.items())]
    return PortScan(modems, sorted(other))


def stable_name(role: str, device: str,
                udev_names: Mapping[str, str] = UDEV_NAMES) -> str | None:
    """The udev name for `role` ("/dev/sim7600-at") when it exists and points at `device`."""
    name = udev_names.get(role)
    if name and os.path.exists(name) and os.path.realpath(name) == os.path.realpath(device):
        return name
    return None


def preferred_name(role: str, device: str, udev_names: Mapping[str, str] = UDEV_NAMES) -> str:
    return stable_name(role, device, udev_names) or device
