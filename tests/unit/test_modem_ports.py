"""Finding the SIM7600's ports among pyserial's port list (ListPortInfo, as on Linux)."""

from __future__ import annotations

from serial.tools.list_ports_common import ListPortInfo

from modem.cli import format_ports
from modem.ports import interface_number, scan_ports


def usb_port(device: str, vid: int, pid: int, location: str, serial: str | None = None
             ) -> ListPortInfo:
    info = ListPortInfo(device)
    info.vid, info.pid, info.location, info.serial_number = vid, pid, location, serial
    return info


def test_interface_number_from_sysfs_location() -> None:
    assert interface_number("1-1.2:1.4") == 4
    assert interface_number("3-2:1.10") == 10
    assert interface_number("1-1.2") is None and interface_number(None) is None


def test_roles_come_from_interface_numbers_not_tty_numbers() -> None:
    # Another USB serial adapter took ttyUSB0, so the modem's ports are shifted by one.
    ports = [usb_port("/dev/ttyUSB0", 0x0403, 0x6001, "1-1.1")]
    ports += [usb_port(f"/dev/ttyUSB{i + 1}", 0x1E0E, 0x9001, f"1-1.2:1.{i}", "abc")
              for i in range(5)]
    scan = scan_ports(ports)
    assert len(scan.modems) == 1 and not scan.other_simcom
    modem = scan.modems[0]
    assert (modem.at, modem.audio, modem.usb_path) == ("/dev/ttyUSB3", "/dev/ttyUSB5", "1-1.2")
    assert modem.ports["diag"] == "/dev/ttyUSB1" and modem.ports["nmea"] == "/dev/ttyUSB2"
    text = format_ports(scan)
    assert "SIM7600 at USB 1-1.2, serial abc" in text and "audio  /dev/ttyUSB5" in text


def test_two_modems_are_kept_apart_and_other_modes_reported() -> None:
    ports = [usb_port("/dev/ttyUSB2", 0x1E0E, 0x9001, "1-1.2:1.2"),
             usb_port("/dev/ttyUSB7", 0x1E0E, 0x9001, "1-1.3:1.2"),
             usb_port("/dev/ttyUSB9", 0x1E0E, 0x9011, "1-1.4:1.4")]
    scan = scan_ports(ports)
    assert [m.usb_path for m in scan.modems] == ["1-1.2", "1-1.3"]
    assert [m.at for m in scan.modems] == ["/dev/ttyUSB2", "/dev/ttyUSB7"]
    assert scan.other_simcom == ["/dev/ttyUSB9 (1e0e:9011)"]
    assert "no SIM7600" in format_ports(scan_ports(ports[2:]))
