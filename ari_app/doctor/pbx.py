"""The PBX half of `secretary doctor`: what Asterisk itself says, asked over AMI.

Channel drivers, the GSM modem (chan_quectel), SIP trunk registrations, SIP endpoints, the
secretary's dialplan contexts, and whether ARI and AMI listen on loopback only. The parsers
and judges are pure functions of AMI answers (tested on captured output); `pbx_checks` asks.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Protocol

from ari_app.ari.ami import AmiReply
from ari_app.doctor.check import Check, Status
from ari_app.doctor.quectel import judge_modem, parse_device_state, parse_devices

BUILD_QUECTEL = "build and load it: scripts/build-chan-quectel (docs/modem.md)"
MEDIA_DRIVERS = {"rtp": "chan_rtp", "websocket": "chan_websocket"}


class Ami(Protocol):
    """What the checks need of an AMI session (ari_app.ari.ami.AmiSession)."""

    async def action(self, name: str, **params: str) -> AmiReply: ...

    async def command(self, cli: str) -> AmiReply: ...


@dataclass(frozen=True)
class Expect:
    """What this secretary's config implies about the PBX."""

    app: str  # ari.app: the Stasis() application secretary-inbound must hand calls to
    media_transport: str  # media.transport: rtp or websocket
    gsm_line: bool  # ami.gsm_line
    ari_host: str  # the host of ari.url
    ami_host: str  # ami.host


def denied(name: str, what: str, needs: str) -> Check:
    return Check(name, "warn", f"not checked: the AMI user may not run {what}",
                 f"add {needs} to the user's write= in manager_users.conf "
                 "(see asterisk/etc/manager.conf)")


# --- channel drivers --------------------------------------------------------------------


def judge_driver(module: str, reply: AmiReply, required: bool, why: str, fix: str) -> Check:
    name = f"channel driver {module}"
    if reply.denied:
        return denied(name, "ModuleCheck", "system")
    if reply.ok:
        return Check(name, "ok", f"loaded ({why})")
    return Check(name, "fail" if required else "warn",
                 f"not loaded ({reply.message or 'ModuleCheck failed'}); {why}", fix)


# --- GSM modems (chan_quectel) -----------------------------------------------------------


async def modem_checks(ami: Ami, required: bool) -> list[Check]:
    listing = await ami.command("quectel show devices")
    if listing.denied:
        return [denied("GSM modems", "the Command action", "command")]
    level: Status = "fail" if required else "warn"
    if not listing.ok:
        return [Check("GSM modems", level, "`quectel show devices` failed: "
                      f"{listing.output or listing.message}")]
    rows = parse_devices(listing.output)
    if not rows:
        if not required:
            return [Check("GSM modems", "ok", "none configured")]
        return [Check("GSM modems", "fail", "chan_quectel has no modem",
                      "configure the modem in quectel.conf (docs/modem.md), then "
                      "`module reload chan_quectel.so`")]
    checks = []
    for row in rows:
        found: dict[str, str] = {}
        # An unpatched chan_quectel crashes Asterisk on `device state` of a modem that is not
        # up (an out-of-bounds read, docs/modem.md): the State column already tells.
        if not row.state.lower().startswith(_DOWN_STATES):
            state = await ami.command(f"quectel show device state {row.id}")
            found = parse_device_state(state.output) if state.ok else {}
        checks.append(judge_modem(row, found, required))
    return checks


_DOWN_STATES = ("not connec", "stopped", "not init")


# --- SIP trunks and endpoints -----------------------------------------------------------

_REGISTRATION_FIX = {
    "Rejected": "the provider refused: check the trunk's auth (username, password) in "
                "pjsip_local.conf, then `pjsip send register {name}`",
    "Stopped": "Asterisk gave up (max_retries): fix the cause, then `pjsip send register {name}`",
}
_NO_ANSWER_FIX = ("no answer from the provider yet: check server_uri, DNS and the firewall, "
                  "then `pjsip send register {name}`")


def judge_registrations(reply: AmiReply) -> list[Check]:
    if reply.denied:
        return [denied("SIP trunk registrations", "PJSIPShowRegistrationsOutbound", "system")]
    if not reply.ok:
        return [Check("SIP trunk registrations", "warn", f"not checked: {reply.message}")]
    rows = reply.items("OutboundRegistrationDetail")
    if not rows:
        return [Check("SIP trunk registrations", "ok", "none configured")]
    checks = []
    for row in rows:
        name, status = row.get("ObjectName", "?"), row.get("Status", "?")
        detail = f"{status} at {row.get('ServerUri', '?')}"
        if status == "Registered":
            checks.append(Check(f"SIP trunk {name}", "ok", detail))
        else:
            fix = _REGISTRATION_FIX.get(status, _NO_ANSWER_FIX).format(name=name)
            checks.append(Check(f"SIP trunk {name}", "fail", detail, fix))
    return checks


def judge_endpoints(reply: AmiReply) -> Check:
    name = "SIP endpoints"
    if reply.denied:
        return denied(name, "PJSIPShowEndpoints", "system")
    if not reply.ok:
        return Check(name, "warn", f"not checked: {reply.message}")
    rows = reply.items("EndpointList")
    if not rows:
        return Check(name, "ok", "none configured")
    parts, unreachable = [], []
    for row in rows:
        endpoint, state = row.get("ObjectName", "?"), row.get("DeviceState", "?")
        if not row.get("Aor"):
            # No AOR: nothing to reach, calls only come in (identified by address or auth).
            parts.append(f"{endpoint} (inbound only)")
        else:
            parts.append(f"{endpoint} ({state})")
            if state in ("Unavailable", "Invalid"):
                unreachable.append(endpoint)
    detail = ", ".join(parts)
    if unreachable:
        return Check(name, "warn", detail,
                     f"{', '.join(unreachable)}: no reachable contact (not registered, or "
                     "not answering qualify); calls to them fail until they are back")
    return Check(name, "ok", detail)


# --- dialplan -----------------------------------------------------------------------------


def judge_dialplan(inbound: AmiReply, fallback: AmiReply, app: str) -> list[Check]:
    checks = []
    if inbound.denied:
        return [denied("dialplan secretary-inbound", "ShowDialPlan", "reporting")]
    install = ("install asterisk/dialplan/secretary.conf in /etc/asterisk "
               "(extensions.conf #includes it), then `dialplan reload`")
    if not inbound.ok:
        checks.append(Check("dialplan secretary-inbound", "fail",
                            f"missing ({inbound.message}): calls cannot reach the secretary",
                            install))
    else:
        steps = inbound.items("ListDialplan")
        stasis = [s.get("AppData", "").split(",")[0].strip() for s in steps
                  if s.get("Application", "").lower() == "stasis"]
        if app in stasis or any("${" in s for s in stasis):
            checks.append(Check("dialplan secretary-inbound", "ok",
                                f"{len(steps)} steps, Stasis({app})"))
        elif stasis:
            checks.append(Check(
                "dialplan secretary-inbound", "fail",
                f"hands calls to Stasis({stasis[0]}), but ari.app is '{app}'",
                "make ari.app and the Stasis() name in secretary.conf the same"))
        else:
            checks.append(Check("dialplan secretary-inbound", "fail",
                                "never hands calls to Stasis()", install))
    referenced = any("secretary-fallback" in s.get("AppData", "") for s in inbound.events)
    if fallback.ok:
        steps = fallback.items("ListDialplan")
        checks.append(Check("dialplan secretary-fallback", "ok", f"{len(steps)} steps"))
    elif fallback.denied:
        checks.append(denied("dialplan secretary-fallback", "ShowDialPlan", "reporting"))
    elif referenced:
        checks.append(Check("dialplan secretary-fallback", "fail",
                             "missing, yet secretary-inbound sends calls there when the app "
                             "is down: those calls would be dropped", install))
    else:
        checks.append(Check("dialplan secretary-fallback", "warn",
                            "missing: when the app is down callers hear a congestion tone",
                            install))
    return checks


# --- listening addresses -------------------------------------------------------------------

_HTTP_BOUND = re.compile(r"^(?:HTTPS )?Server Enabled and Bound to (\S+)", re.M)
_AMI_BOUND = re.compile(r"^\s*(?:TCP|TLS) Bindaddress:\s*(\S+)", re.M)


def http_binds(text: str) -> list[str]:
    """The host:port pairs of `http show status` (HTTP and HTTPS)."""
    return _HTTP_BOUND.findall(text)


def manager_binds(text: str) -> list[str]:
    """The host:port pairs of `manager show settings` (TCP, and TLS unless disabled)."""
    return [b for b in _AMI_BOUND.findall(text) if b != "Disabled"]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost; host may carry a :port."""
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def judge_listen(name: str, reply: AmiReply, binds: list[str], client_host: str,
                 conf: str) -> Check:
    if reply.denied:
        return denied(name, "the Command action", "command")
    if not reply.ok:
        return Check(name, "warn", f"not checked: {reply.message or reply.output}")
    if not binds:
        return Check(name, "warn", "no listening address in Asterisk's answer")
    public = [b for b in binds if not is_loopback(b)]
    if not public:
        return Check(name, "ok", ", ".join(binds))
    detail = f"listens on {', '.join(public)}: reachable from the network"
    if is_loopback(client_host):
        return Check(name, "fail", detail + ", though the secretary uses loopback",
                     f"set bindaddr = 127.0.0.1 in {conf}, then restart Asterisk")
    return Check(name, "warn", detail, "keep the port behind a firewall; passwords travel "
                 "in clear text")


# --- the checks, asked over AMI --------------------------------------------------------------


async def pbx_checks(ami: Ami, expect: Expect) -> list[Check]:
    checks = [judge_driver("chan_pjsip", await ami.action("ModuleCheck", Module="chan_pjsip"),
                           True, "SIP lines, trunks and the staff handover",
                           "load it: remove `noload => chan_pjsip.so` from modules.conf")]
    media = MEDIA_DRIVERS.get(expect.media_transport)
    if media is not None:
        checks.append(judge_driver(
            media, await ami.action("ModuleCheck", Module=media), True,
            f"media.transport: {expect.media_transport}",
            f"load it: remove `noload => {media}.so` from modules.conf"))
    quectel = await ami.action("ModuleCheck", Module="chan_quectel")
    why = "GSM line (ami.gsm_line)" if expect.gsm_line else "GSM modem lines, optional"
    checks.append(judge_driver("chan_quectel", quectel, expect.gsm_line, why, BUILD_QUECTEL))
    if quectel.ok:
        checks += await modem_checks(ami, expect.gsm_line)
    checks += judge_registrations(await ami.action("PJSIPShowRegistrationsOutbound"))
    checks.append(judge_endpoints(await ami.action("PJSIPShowEndpoints")))
    checks += judge_dialplan(await ami.action("ShowDialPlan", Context="secretary-inbound"),
                             await ami.action("ShowDialPlan", Context="secretary-fallback"),
                             expect.app)
    http = await ami.command("http show status")
    checks.append(judge_listen("ARI on loopback only", http, http_binds(http.output),
                               expect.ari_host, "http.conf"))
    manager = await ami.command("manager show settings")
    checks.append(judge_listen("AMI on loopback only", manager, manager_binds(manager.output),
                               expect.ami_host, "manager.conf"))
    return checks
