"""Attended transfer: the secretary rings a staff member, tells them who is calling and
why, and the staff member accepts with DTMF 1 or declines with 2.

The staff leg is its own small call: a Local channel into the dialplan's `secretary-staff`
context (the PBX admin decides what a target dials), which enters our Stasis app when
answered; a bridge and a media leg of its own carry the announcement. The caller's side is
not touched here: the session puts the staff channel into the caller's bridge on "accepted"
and takes the caller back into the conversation otherwise.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ari_app.ari.client import AriClient, AriError
from ari_app.ari.events import HANGUP_EVENTS
from ari_app.call.media_leg import MediaLeg, open_media_leg
from ari_app.call.speaker import Speaker
from ari_app.config import MediaConfig, TransferConfig
from ari_app.tts.base import TextToSpeech

log = logging.getLogger(__name__)

Outcome = Literal["accepted", "declined", "busy", "no_answer", "failed"]
LEAVE_TIMEOUT_S = 2.0
DTMF_SETTLE_S = 0.5

# Q.850 causes of an unanswered staff call, as the Local channel reports them.
_CAUSES: dict[int, Outcome] = {
    17: "busy",  # user busy
    18: "no_answer",  # no user responding
    19: "no_answer",  # no answer
    21: "declined",  # call rejected
    16: "no_answer",  # normal clearing before answer: Dial gave up (timeout, no devices)
    0: "no_answer",
}

# What the staff member is told after the announcement. Staff-facing, so not persona text.
KEYS_PROMPT = {
    "ru": "Нажмите один, чтобы принять звонок, или два, чтобы отказаться.",
    "en": "Press one to take the call, or two to decline.",
}


def outcome_of_cause(cause: int) -> Outcome:
    return _CAUSES.get(cause, "failed")


@dataclass(frozen=True)
class StaffTarget:
    target: str  # what `secretary-staff` dials: an extension, a department, a queue
    announcement: str  # who is calling and why, in the staff member's language
    language: str


class StaffCall:
    """One try to reach a staff member; `run()` returns how it went."""

    def __init__(
        self,
        ari: AriClient,
        media: MediaConfig,
        cfg: TransferConfig,
        tts: TextToSpeech,
        call_id: str,
        attempt: int,
        route: Callable[[str], None],
    ) -> None:
        self.ari = ari
        self.media = media
        self.cfg = cfg
        self.tts = tts
        self.channel_id = f"secretary-staff-{call_id}-{attempt}"
        self.media_channel_id = f"secretary-media-staff-{call_id}-{attempt}"
        self.bridge_id = f"secretary-staffbridge-{call_id}-{attempt}"
        self._route = route
        loop = asyncio.get_running_loop()
        self._answered: asyncio.Future[None] = loop.create_future()
        self._gone: asyncio.Future[int] = loop.create_future()  # hangup cause
        self._media_started: asyncio.Future[None] = loop.create_future()
        self._keys: asyncio.Queue[str] = asyncio.Queue()
        self._left_bridge = asyncio.Event()
        self._leg: MediaLeg | None = None
        self.answered_at: float | None = None

    def owns(self, channel_id: str) -> bool:
        return channel_id in (self.channel_id, self.media_channel_id)

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        channel_id = (event.get("channel") or {}).get("id")
        if channel_id == self.media_channel_id:
            if kind == "StasisStart" and not self._media_started.done():
                self._media_started.set_result(None)
            return
        if kind == "StasisStart" and not self._answered.done():
            self._answered.set_result(None)
        elif kind == "ChannelLeftBridge":
            self._left_bridge.set()
        elif kind == "ChannelDtmfReceived":
            self._keys.put_nowait(str(event.get("digit", "")))
        elif kind in HANGUP_EVENTS and not self._gone.done():
            self._gone.set_result(int(event.get("cause", 0) or 0))

    @property
    def hung_up(self) -> asyncio.Future[int]:
        return self._gone

    async def run(self, target: StaffTarget, caller_id: str, caller_channel: str) -> Outcome:
        """Ring, announce, wait for a key. On anything but "accepted" the staff channel is
        hung up; on "accepted" it is left answered and in Stasis for the session to bridge.

        The staff channel is originated on behalf of `caller_channel`, so it takes the
        caller's codecs. Measured on the testbed: a Local channel originated without them
        settled on 192 kHz signed linear, and in 11 of 19 accepted transfers the caller's
        voice then never reached the staff phone; with the caller's codecs, in 0 of 14."""
        self._route(self.channel_id)
        self._route(self.media_channel_id)
        endpoint = f"Local/{target.target}@{self.cfg.staff_context}/n"
        try:
            await self.ari.originate(
                self.channel_id, endpoint, app_args=f"staff,{self.channel_id}",
                caller_id=caller_id, timeout_s=int(self.cfg.ring_timeout_s),
                originator=caller_channel,
            )
        except AriError as exc:
            log.warning("transfer to %s: originate failed: %s", target.target, exc)
            return "failed"
        outcome: Outcome = "failed"
        try:
            outcome = await self._ring_and_ask(target)
            return outcome
        finally:
            await asyncio.shield(self._cleanup(hang_up_staff=outcome != "accepted"))

    async def _ring_and_ask(self, target: StaffTarget) -> Outcome:
        ringing: set[asyncio.Future[Any]] = {self._answered, self._gone}
        await asyncio.wait(
            ringing, timeout=self.cfg.ring_timeout_s + 5,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if not self._answered.done():
            if self._gone.done():
                cause = self._gone.result()
                log.info("transfer to %s: not answered (cause %d)", target.target, cause)
                return outcome_of_cause(cause)
            return "no_answer"
        self.answered_at = asyncio.get_running_loop().time()
        await self.ari.create_bridge(self.bridge_id, name=f"secretary staff {self.channel_id}")
        await self.ari.add_to_bridge(self.bridge_id, self.channel_id)
        self._leg = await open_media_leg(
            self.ari, self.media, self.media_channel_id, self.bridge_id, self._media_started
        )
        speaker = Speaker(self._leg.transport, asyncio.get_running_loop(), lambda f, t: None)
        prompt = KEYS_PROMPT.get(target.language, KEYS_PROMPT["en"])
        for text in (f"{target.announcement} {prompt}", prompt):
            say = asyncio.ensure_future(speaker.say(text, self.tts))
            key = await self._key_or_hangup(say, self.cfg.accept_timeout_s)
            if key is not None:
                return key
        return "no_answer"

    async def _key_or_hangup(self, say: asyncio.Future[Any], wait_s: float) -> Outcome | None:
        """While (and `wait_s` after) `say` plays: 1 -> accepted, 2 -> declined, staff
        hangup -> declined; None when no key came."""
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        try:
            while True:
                if deadline is None and say.done():
                    deadline = loop.time() + wait_s
                timeout = None if deadline is None else max(0.0, deadline - loop.time())
                key = asyncio.ensure_future(self._keys.get())
                waiting: set[asyncio.Future[Any]] = {key, self._gone}
                if deadline is None:
                    waiting.add(say)
                await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                if self._gone.done():
                    key.cancel()
                    return "declined"
                if key.done():
                    digit = key.result()
                    if digit == "1":
                        # let Asterisk finish the key's DTMF (it drops voice frames while a
                        # digit is in progress) before the channel changes bridges
                        await asyncio.sleep(DTMF_SETTLE_S)
                        return "accepted"
                    if digit == "2":
                        return "declined"
                    continue
                key.cancel()
                if deadline is not None and loop.time() >= deadline:
                    return None
        finally:
            if not say.done():
                say.cancel()
                await asyncio.gather(say, return_exceptions=True)

    async def _cleanup(self, *, hang_up_staff: bool) -> None:
        if not hang_up_staff and self._leg is not None:
            # the staff member stays: take them out of the announcement bridge first, and
            # wait until Asterisk has let go, so the caller's bridge gets a settled channel
            try:
                await self.ari.remove_from_bridge(self.bridge_id, self.channel_id)
                await asyncio.wait_for(self._left_bridge.wait(), LEAVE_TIMEOUT_S)
            except (AriError, TimeoutError) as exc:
                log.warning("transfer %s: leaving the staff bridge: %r", self.channel_id, exc)
        steps: list[tuple[str, Any]] = []
        if self._leg is not None:
            steps.append(("close staff media", self._leg.transport.close()))
        steps.append(("hang up staff media channel", self.ari.hangup(self.media_channel_id)))
        steps.append(("destroy staff bridge", self.ari.destroy_bridge(self.bridge_id)))
        if hang_up_staff:
            steps.append(("hang up staff", self.ari.hangup(self.channel_id)))
        for what, step in steps:
            try:
                await step
            except Exception as exc:
                log.warning("transfer %s: %s failed: %s", self.channel_id, what, exc)
