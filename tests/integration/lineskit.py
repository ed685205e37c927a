"""Helpers of the lines tests (test_lines_*.py): an ARI event listener that stands in for the
secretary app, calls placed into the lines' contexts (sipp over SIP, Local channels over ARI),
and the Asterisk CLI of the testbed.

The staff phone these tests use is testkit.staff.StaffPhone.

The listener is not the secretary: it only registers the Stasis app name(s) it is given,
subscribes them to every channel (`channel:`) and records every event, so a test sees each
channel Asterisk creates. Not `subscribeAll=true`: that also subscribes to every device state,
and closing such a websocket can deadlock Asterisk's ARI for good (the unsubscribe joins a
device state dispatch while holding the session lock: asterisk/asterisk#2170). In a CI run it
did, mid-file, and every later handshake timed out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import websockets
from conftest import REPO, run_testbed

from testkit.runner import free_rtp_port, free_udp_port

ARI = "http://127.0.0.1:8088/ari"
WS = "ws://127.0.0.1:8088/ari/events"
AUTH = ("secretary", "testbed-secret")
TEST_APP = "lines-test"  # where the originating half of a test's Local channel waits

Event = dict[str, Any]


def cli(command: str) -> str:
    """One Asterisk CLI command on the testbed; its output (fails the test on an error)."""
    done = run_testbed("cli", *command.split(), timeout=30)
    assert done.returncode == 0, f"cli {command!r} failed ({done.returncode}): {done.stdout}"
    return done.stdout


def db_put(family: str, key: str, value: str) -> None:
    assert "Updated database successfully" in cli(f"database put {family} {key} {value}")


def db_del(family: str, key: str) -> None:
    if db_get(family, key) is not None:  # deleting a missing key logs a warning
        cli(f"database del {family} {key}")


def db_get(family: str, key: str) -> str | None:
    out = cli(f"database get {family} {key}")
    match = re.search(r"Value: (.*)", out)
    return match[1].strip() if match else None


def voicemail_count(mailbox: str, context: str = "secretary") -> int:
    """New messages in a mailbox, from `voicemail show users for <context>`."""
    for line in cli(f"voicemail show users for {context}").splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] == context and fields[1] == mailbox:
            return int(fields[-1])
    raise AssertionError(f"mailbox {mailbox}@{context} not configured (voicemail.conf)")


def log_path() -> Path:
    """Asterisk's `messages` log of the testbed (chroot or system backend)."""
    for path in (REPO / ".testbed/root/var/log/asterisk/messages", REPO / ".testbed/log/messages"):
        if path.exists():
            return path
    raise AssertionError("no Asterisk messages log under .testbed/")


class AriEvents:
    """An ARI event websocket for `apps` (comma-separated), recording every event."""

    def __init__(self, apps: str) -> None:
        self.apps = apps
        self.events: list[Event] = []
        self._changed = asyncio.Event()
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None
        self.http = httpx.AsyncClient(auth=AUTH, timeout=10)

    async def __aenter__(self) -> AriEvents:
        url = f"{WS}?app={self.apps}&subscribeAll=false&api_key={AUTH[0]}:{AUTH[1]}"
        self._ws = await websockets.connect(url, open_timeout=20, close_timeout=2)
        self._reader = asyncio.create_task(self._read())
        for app in self.apps.split(","):
            await self._subscribe_to_every_channel(app)
        return self

    async def _subscribe_to_every_channel(self, app: str) -> None:
        for _ in range(20):  # the app is registered once the handshake is done; 2 s at most
            subscribed = await self.ari("POST", f"/applications/{app}/subscription",
                                        eventSource="channel:")
            if subscribed.status_code != 404:
                break
            await asyncio.sleep(0.1)
        assert subscribed.status_code == 200, (app, subscribed.status_code, subscribed.text)

    async def __aexit__(self, *exc: object) -> None:
        # Leave no channel in our apps behind: unregistering an app that still has channels
        # stalled Asterisk's next ARI websocket handshakes for 10-30 s (22.10.1).
        await self.hang_up_all()
        for _ in range(50):  # 5 s at most
            if not (await self.ari("GET", "/channels")).json():
                break
            await asyncio.sleep(0.1)
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self.http.aclose()

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in self._ws:
                self.events.append(json.loads(message))
                self._changed.set()

    def die(self) -> None:
        """The app's process dies: the connection drops without a close handshake."""
        self._ws.transport.abort()

    async def wait(self, pred: Callable[[Event], bool], within_s: float = 10.0) -> Event | None:
        """The first event (already seen or coming) that satisfies `pred`; None if none comes
        within `within_s`."""
        deadline = time.monotonic() + within_s
        while True:
            for event in self.events:
                if pred(event):
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    def channels_created(self) -> list[str]:
        return [e["channel"]["name"] for e in self.events if e["type"] == "ChannelCreated"]

    async def ari(self, method: str, path: str, **params: Any) -> httpx.Response:
        body = params.pop("json", None)
        return await self.http.request(method, ARI + path, params=params, json=body)

    async def originate_local(
        self, exten: str, context: str, *, channel_id: str, caller: str = "",
        variables: dict[str, str] | None = None, timeout_s: int = 30,
    ) -> None:
        """Local/<exten>@<context>: its ;2 half runs the context's dialplan, the ;1 half waits
        in TEST_APP. Channel variables given here are copied to ;2 when it starts."""
        params: dict[str, Any] = {
            "endpoint": f"Local/{exten}@{context}", "app": TEST_APP,
            "channelId": channel_id, "otherChannelId": f"{channel_id}-2", "timeout": timeout_s,
        }
        if caller:
            params["callerId"] = caller
        resp = await self.ari("POST", "/channels", json={"variables": variables or {}}, **params)
        assert resp.status_code == 200, resp.text

    async def hang_up_all(self) -> None:
        for channel in (await self.ari("GET", "/channels")).json():
            await self.ari("DELETE", f"/channels/{channel['id']}")


def stasis_start(app: str, channel_id: str = "") -> Callable[[Event], bool]:
    """StasisStart in `app` (of the channel with that ARI id, if given)."""
    return lambda e: (
        e["type"] == "StasisStart" and e.get("application") == app
        and channel_id in ("", e["channel"]["id"])
    )


def in_voicemail(event: Event) -> bool:
    """A channel entered the VoiceMail application."""
    return event["type"] == "ChannelDialplan" and event.get("dialplan_app") == "VoiceMail"


def destroyed(channel_id: str) -> Callable[[Event], bool]:
    return lambda e: e["type"] == "ChannelDestroyed" and e["channel"]["id"] == channel_id


# --- SIP calls with sipp ----------------------------------------------------------------------

_INVITE_SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="lines-invite">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{from_user}@[local_ip]:[local_port]>;tag=[pid]lines[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:{from_user}@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
User-Agent: secretary-lines-test
Content-Type: application/sdp
Content-Length: [len]

v=0
o=lines 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 8
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=sendrecv
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{from_user}@[local_ip]:[local_port]>;tag=[pid]lines[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
"""


@dataclass
class SipOutcome:
    rc: int
    responses: list[str]  # status lines received, in order
    log: str

    @property
    def final(self) -> str:
        finals = [r for r in self.responses if not re.match(r"SIP/2.0 1\d\d", r)]
        return finals[-1] if finals else ""


def sip_invite(workdir: Path, *, local_ip: str, number: str, from_user: str = "+15557654321",
               timeout_s: int = 20) -> SipOutcome:
    """One INVITE to the testbed from `local_ip`; the call is answered and then waits for the
    far end's BYE (the test hangs it up). Blocking: run it in a thread next to a listener."""
    if shutil.which("sipp") is None:
        raise AssertionError("sipp missing (Debian sip-tester)")
    workdir.mkdir(parents=True, exist_ok=True)
    scenario = workdir / "invite.xml"
    scenario.write_text(_INVITE_SCENARIO.replace("{from_user}", from_user))
    messages = workdir / "messages.log"
    messages.unlink(missing_ok=True)
    cmd = [
        "sipp", "127.0.0.1:5060", "-sf", str(scenario), "-s", number, "-m", "1",
        "-i", local_ip, "-p", str(free_udp_port(local_ip)), "-mi", local_ip,
        "-mp", str(free_rtp_port(local_ip)), "-nostdin", "-timeout", f"{timeout_s}s",
        "-trace_msg", "-message_file", str(messages),
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True,
                          timeout=timeout_s + 15, check=False)
    log = messages.read_text(errors="replace") if messages.exists() else ""
    responses = [ln.strip() for ln in log.splitlines() if ln.startswith("SIP/2.0 ")]
    return SipOutcome(done.returncode, responses, log + done.stdout + done.stderr)
