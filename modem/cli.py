"""`python -m modem ports|diagnose|quectel-conf`: the SIM7600 line's setup and check tool.

Exit codes: 0 ok (warnings allowed), 1 a check failed or the modem could not be reached,
2 bad arguments (the message names the option).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ari_app.doctor.check import Check, exit_code
from modem.at import ModemError, PortError, open_at_port
from modem.diagnose import format_report, modem_checks, port_checks
from modem.ports import PortScan, preferred_name, scan_ports, stable_name
from modem.probe import ModemFacts, probe
from modem.quectel_conf import QuectelConfOptions, render_quectel_conf

DEFAULT_TIMEOUT_S = 2.0


def _resolve(args: argparse.Namespace) -> tuple[PortScan | None, str | None, str | None]:
    if args.at_port:
        return None, args.at_port, args.audio_port
    scan = scan_ports()
    if not scan.modems:
        return scan, None, None
    modem = scan.modems[0]
    at = preferred_name("at", modem.at) if modem.at else None
    audio = args.audio_port or (preferred_name("audio", modem.audio) if modem.audio else None)
    return scan, at, audio


def format_ports(scan: PortScan) -> str:
    if not scan.modems:
        lines = ["no SIM7600 (USB 1e0e:9001) found"]
        lines += [f"SIMCom device in another USB mode: {p}" for p in scan.other_simcom]
        return "\n".join(lines)
    lines = []
    for modem in scan.modems:
        serial = f", serial {modem.serial_number}" if modem.serial_number else ""
        lines.append(f"SIM7600 at USB {modem.usb_path}{serial}")
        for role, device in modem.ports.items():
            name = stable_name(role, device)
            lines.append(f"  {role:<6} {device}" + (f"  ({name})" if name else ""))
    return "\n".join(lines)


def _probe(at: str, args: argparse.Namespace) -> ModemFacts:
    client = open_at_port(at, timeout_s=args.timeout)
    try:
        return probe(client, pin=args.pin)
    finally:
        client.close()


def cmd_diagnose(args: argparse.Namespace) -> int:
    scan, at, audio = _resolve(args)
    checks = port_checks(scan, at, audio)
    if at is not None:
        try:
            facts = _probe(at, args)
            checks += modem_checks(facts, args.timeout)
        except PortError as exc:
            checks.append(Check("AT port", "fail", str(exc)))
    print(format_report(checks, f"SIM7600 check, AT port {at or '?'}"))
    return exit_code(checks)


def cmd_ports(args: argparse.Namespace) -> int:
    scan = scan_ports()
    print(format_ports(scan))
    return 0 if scan.modems else 1


def cmd_quectel_conf(args: argparse.Namespace) -> int:
    slin16 = None if args.slin16 is None else args.slin16 == "on"
    options = QuectelConfOptions(device=args.name, context=args.context, language=args.language,
                                 group=args.group, rxgain=args.rxgain, txgain=args.txgain,
                                 slin16=slin16)
    try:
        options.validate()
    except ValueError as exc:
        print(f"modem: {exc}", file=sys.stderr)
        return 2
    _, at, audio = _resolve(args)
    if at is None or audio is None:
        print("modem: no SIM7600 AT and audio ports found; name them with --at-port and "
              "--audio-port", file=sys.stderr)
        return 1
    facts = None
    if not args.no_probe:
        try:
            facts = _probe(at, args)
        except ModemError as exc:
            print(f"modem: {exc}\n(use --no-probe to write the file from the options alone)",
                  file=sys.stderr)
            return 1
        if not facts.responding:
            print(f"modem: {at} does not answer AT; run 'python -m modem diagnose'",
                  file=sys.stderr)
            return 1
    text = render_quectel_conf(at, audio, facts, options)
    if args.output is None:
        print(text, end="")
        return 0
    out = Path(args.output)
    if out.exists() and not args.force:
        print(f"modem: {out} exists; use --force to replace it", file=sys.stderr)
        return 2
    out.write_text(text)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _gain(text: str) -> int:
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m modem",
                                     description="SIM7600 GSM modem: find, check, configure.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ports", help="list the SIM7600 serial ports found on USB")
    diag = sub.add_parser("diagnose", help="check the modem and say in plain words what to fix")
    conf = sub.add_parser("quectel-conf", help="write chan_quectel's quectel.conf")
    for p in (diag, conf):
        p.add_argument("--at-port", help="AT port (default: found on USB, USB interface 2)")
        p.add_argument("--audio-port", help="audio port (default: found, USB interface 4)")
        p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                       help=f"seconds to wait for each AT reply (default {DEFAULT_TIMEOUT_S:g})")
        p.add_argument("--pin", default=os.environ.get("SIM7600_PIN"),
                       help="enter this SIM PIN if the SIM asks for one (or env SIM7600_PIN)")
    conf.add_argument("--name", default="sim7600", help="device section name (Quectel/<name>)")
    conf.add_argument("--context", default="from-gsm", help="dialplan context for calls")
    conf.add_argument("--language", help="channel language (default: from the SIM's country)")
    conf.add_argument("--group", type=int, default=0)
    conf.add_argument("--rxgain", type=_gain, default=-1, help="0-8, -1 keeps the module's")
    conf.add_argument("--txgain", type=_gain, default=-1, help="0-8, -1 keeps the module's")
    conf.add_argument("--slin16", choices=("on", "off"),
                      help="16 kHz audio (default: on when the modem offers it)")
    conf.add_argument("--no-probe", action="store_true",
                      help="do not ask the modem; write from the options alone")
    conf.add_argument("-o", "--output", help="write here instead of standard output")
    conf.add_argument("--force", action="store_true", help="replace an existing --output file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "ports":
        return cmd_ports(args)
    if args.command == "diagnose":
        return cmd_diagnose(args)
    return cmd_quectel_conf(args)
