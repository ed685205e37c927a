"""The ARI application: connects to Asterisk, registers the Stasis app, routes events to
one CallSession per call, and reconnects (with backoff) when Asterisk goes away."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ari_app.api.messages import ApiMessages
from ari_app.ari.client import AriClient, AriError
from ari_app.ari.events import Backoff, EventStream
from ari_app.call.ending import EndReason
from ari_app.call.session import (
    HAND_BACK_S,
    HANDOFF_CONTEXT,
    HANDOFF_EXTEN,
    CallContext,
    CallSession,
)
from ari_app.capacity import Capacity
from ari_app.config import Config
from ari_app.console.chat_api import ChatSetup
from ari_app.console.live import LiveBus
from ari_app.console.llm_settings import LlmSettings
from ari_app.console.server import ConsoleServer
from ari_app.console.users import UserStore
from ari_app.console.voices_api import VoiceSetup
from ari_app.doctor.run import doctor_checks
from ari_app.engines import Engines
from ari_app.errors import AriUnreachable, SecretaryError
from ari_app.instance_lease import RENEW_S, InstanceLease
from ari_app.llm.factory import build_chain
from ari_app.llm.tools import SECRETARY_TOOLS
from ari_app.llm.warmup import warm_up_chain
from ari_app.memory import Trimmer, glibc_trim
from ari_app.metrics import Metrics
from ari_app.mind.llm_dialogue import warm_up_messages
from ari_app.mind.persona import Personas
from ari_app.mind.persona_file import PersonaFiles
from ari_app.notify.factory import build_notifications
from ari_app.notify.message import StaffMessage
from ari_app.record_spool import RecordSpool
from ari_app.storage import CallStore, StorageError

log = logging.getLogger(__name__)

MEDIA_PREFIX = "secretary-media-"
BRIDGE_PREFIX = "secretary-"


class AnotherInstance(AriUnreachable):
    """Another program already holds our ARI app name."""


class SecretaryApp:
    def __init__(self, cfg: Config, engines: Engines, store: CallStore,
                 config_path: Path | None = None) -> None:
        """`config_path`: the file `cfg` came from, which the console's Settings edit."""
        self.cfg = cfg
        self.engines = engines
        self.store = store
        self.ari = AriClient(cfg.ari.url, cfg.ari.username, cfg.ari.password, cfg.ari.app)
        self.sessions: dict[str, CallSession] = {}  # channel id (caller or media) -> session
        self.tasks: set[asyncio.Task[Any]] = set()
        self.calls: dict[CallSession, asyncio.Task[None]] = {}  # the calls in progress
        self._draining: asyncio.Task[None] | None = None
        self._stream: EventStream | None = None
        self._stopping = asyncio.Event()
        self.llm = build_chain(cfg.llm, cfg.default_language) if cfg.llm else None
        self.notifications = build_notifications(cfg.notify)
        self.metrics = Metrics()
        if engines.stt is not None:
            stt = engines.stt
            self.metrics.watch_recogniser(lambda: float(getattr(stt, "pending", 0)))
        self.spool = RecordSpool(store, cfg.storage.spool_path)
        self.metrics.records_spooled.set_function(lambda: float(self.spool.waiting()))
        # the console's /api (accounts in the calls database) beside /metrics
        self.live = LiveBus()  # the calls in progress, for the console's live view
        personas = Personas(cfg.paths.personas_dir)  # reloaded when a file changes
        self.console = ConsoleServer(
            cfg.console, self.metrics, store, UserStore(cfg.storage.target), self.live,
            PersonaFiles(cfg.paths.personas_dir),
            health=lambda: doctor_checks(cfg, "loaded when secretary run started"),
            settings=(LlmSettings(config_path, running=cfg.llm)
                      if config_path is not None else None),
            voices=VoiceSetup(cfg, engines, config_path),
            chat=ChatSetup(personas, cfg.persona, cfg.default_language, self.llm,
                           ApiMessages(store, self.notifications).keep, cfg.frozen_time),
        )
        recogniser = engines.stt
        self.capacity = Capacity(cfg.capacity,
                                 lambda: int(getattr(recogniser, "pending", 0)))
        self.ctx = CallContext(
            cfg=cfg, ari=self.ari, engines=engines, store=store,
            personas=personas, route=self._route, llm=self.llm,
            on_message=self._notify, metrics=self.metrics, capacity=self.capacity,
            spool=self.spool, observer=self.live,
        )
        self.connected = asyncio.Event()
        self.lease = InstanceLease(self.ari, cfg.ari.app)
        self.trimmer = Trimmer(glibc_trim())  # the heap given back when the box falls quiet

    def _route(self, channel_id: str, session: CallSession) -> None:
        self.sessions[channel_id] = session

    def _notify(self, message_id: int, staff_message: StaffMessage) -> None:
        """Tell the staff about a message a caller left, in the background; what each channel
        answered goes into the message's record."""
        task = self.notifications.submit(staff_message)

        def record(done: asyncio.Task[dict[str, str | None]]) -> None:
            if done.cancelled() or done.exception() is not None or not message_id:
                return
            outcome = {ch: "ok" if err is None else f"failed: {err}"
                       for ch, err in done.result().items()}
            saved = asyncio.ensure_future(self.store.set_notified(message_id, outcome))
            self.tasks.add(saved)
            saved.add_done_callback(self.tasks.discard)

        task.add_done_callback(record)

    # --- start ---------------------------------------------------------------------------
    async def connect(self, *, first: bool) -> EventStream:
        """Connect REST and the events websocket, with backoff. At first start a bounded
        number of tries (then AriUnreachable); after a drop, keep trying until stopped."""
        a = self.cfg.ari
        backoff = Backoff(a.retry_initial_s, a.retry_max_s)
        attempt = 0
        while True:
            attempt += 1
            try:
                await self.ari.asterisk_info()
                rival = await self.lease.rival()
                if rival is not None:
                    raise AnotherInstance(
                        f"another secretary ({rival.host}, pid {rival.pid}) is already "
                        f"connected to ARI app '{a.app}' at {a.url}; stop it first (two "
                        "would steal each other's calls)",
                    )
                await self.lease.renew()
                stream = EventStream(self.ari)
                await stream.connect()
                return stream
            except AnotherInstance:
                raise
            except AriUnreachable as exc:
                if first and attempt > a.connect_retries:
                    raise AriUnreachable(
                        f"Asterisk is not answering at {a.url} after {attempt} tries ({exc}): "
                        "is it running? (for the testbed: scripts/asterisk-testbed start)"
                    ) from exc
                delay = backoff.next_delay()
                log.warning("ARI not reachable (%s); retrying in %.1f s", exc, delay)
                try:
                    await asyncio.wait_for(self._stopping.wait(), delay)
                    raise AriUnreachable("stopped while connecting") from exc
                except TimeoutError:
                    pass

    async def start(self) -> None:
        await self.store.open()
        await self.store.fill_pool()  # its threads all started: a count that grows leaks
        saved = self.spool.load()
        if saved:
            left = await self.spool.flush()
            log.warning("%d record write(s) saved by the last run: %d written, %d still "
                        "waiting (%s)", saved, saved - left, left, self.spool.path)
        try:
            closed = await self.store.close_orphans(EndReason.APP_CRASHED)
        except StorageError as exc:  # calls are answered all the same; the spool keeps writes
            log.error("records left open by a previous run not closed: %s", exc)
            closed = 0
        if closed:
            log.warning("closed %d call record(s) left open by a previous run", closed)
        await self.console.start()
        retrying = asyncio.create_task(self.spool.run(), name="record-spool")
        self.tasks.add(retrying)
        retrying.add_done_callback(self.tasks.discard)
        self._stream = await self.connect(first=True)
        await self._clean_leftovers()
        self.connected.set()
        log.info("connected to %s as ARI app '%s'", self.cfg.ari.url, self.cfg.ari.app)
        if self.llm is not None and any(link.warm_up for link in self.llm.links):
            warming = asyncio.create_task(self.warm_up_llm(), name="llm-warm-up")
            self.tasks.add(warming)
            warming.add_done_callback(self.tasks.discard)

    async def warm_up_llm(self) -> dict[str, float | str]:
        """The system prompt of each persona and language a line answers with, sent once
        to the self-hosted model servers (llm/warmup.py); in the background, calls are
        answered meanwhile."""
        assert self.llm is not None
        cfg = self.cfg
        pairs = {(cfg.persona_for(line), cfg.language_for(line)) for line in [None, *cfg.lines]}
        prompts = []
        for persona_name, language in sorted(pairs):
            try:
                persona = self.ctx.personas(persona_name)
            except SecretaryError as exc:
                log.warning("LLM warm-up: persona %r skipped: %s", persona_name, exc)
                continue
            now = cfg.frozen_time or persona.now()
            prompts.append(
                (f"{persona_name}:{language}", warm_up_messages(persona, language, now))
            )
        return await warm_up_chain(self.llm, prompts, SECRETARY_TOOLS)

    async def _clean_leftovers(self) -> None:
        """Bridges and media channels left by a previous run that died mid-call. One that
        is gone meanwhile, or an entry without an id, is skipped: start goes on."""
        await _remove_leftovers("bridge", await self.ari.bridges(), BRIDGE_PREFIX,
                                self.ari.destroy_bridge)
        await _remove_leftovers("media channel", await self.ari.channels(), MEDIA_PREFIX,
                                self.ari.hangup)

    # --- run -----------------------------------------------------------------------------
    async def run(self) -> None:
        """Serve calls until stop(); reconnects when the events websocket drops."""
        assert self._stream is not None, "start() first"
        stream = self._stream
        renewer = asyncio.create_task(self._renew_lease())
        try:
            await self._serve(stream)
        finally:
            renewer.cancel()

    async def _renew_lease(self) -> None:
        while True:
            await asyncio.sleep(RENEW_S)
            try:
                await self.lease.renew()
            except (SecretaryError, AriError) as exc:  # Asterisk away: the reconnect logs it
                log.debug("lease not renewed: %s", exc)

    async def _serve(self, stream: EventStream) -> None:
        while not self._stopping.is_set():
            reader = asyncio.create_task(self._read(stream))
            stopper = asyncio.create_task(self._stopping.wait())
            await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            reader.cancel()
            if reader.done() and not reader.cancelled() and reader.exception() is not None:
                log.error("the ARI event reader failed", exc_info=reader.exception())
            await stream.close()
            if self._stopping.is_set():
                break
            self.connected.clear()
            log.warning("lost the ARI connection; reconnecting")
            try:
                stream = await self.connect(first=False)
            except AriUnreachable:
                break
            self._stream = stream
            await self._reconcile()
            self.connected.set()
            log.info("reconnected to ARI")

    async def _read(self, stream: EventStream) -> None:
        async for event in stream:
            try:
                self._dispatch(event)
            except Exception:
                log.exception("failed to handle event %s", event.get("type"))

    def _dispatch(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        channel_id = (event.get("channel") or {}).get("id", "")
        session = self.sessions.get(channel_id)
        if session is not None:
            session.on_event(event)
            return
        if kind == "StasisStart" and not channel_id.startswith(MEDIA_PREFIX):
            self._new_call(event["channel"])

    def _new_call(self, channel: dict[str, Any]) -> None:
        if self._draining is not None or self._stopping.is_set():
            log.warning("stopping: call %s sent to the line's fallback", channel["id"])
            self._send_to_fallback(channel["id"])
            return
        refusal = self.capacity.refusal(len(self.calls))
        if refusal is not None:
            log.warning("saturated: call %s sent to the line's fallback: %s",
                        channel["id"], refusal.why)
            self.metrics.calls_refused.labels(refusal.kind).inc()
            self._send_to_fallback(channel["id"])
            return
        session = CallSession(self.ctx, channel)
        self.sessions[channel["id"]] = session
        task = asyncio.create_task(session.run(), name=f"call-{session.call_id}")
        self.tasks.add(task)
        self.calls[session] = task
        task.add_done_callback(functools.partial(self._call_done, session))

    def _send_to_fallback(self, channel_id: str) -> None:
        handed = asyncio.create_task(self._hand_back_unanswered(channel_id))
        self.tasks.add(handed)
        handed.add_done_callback(self.tasks.discard)

    async def _hand_back_unanswered(self, channel_id: str) -> None:
        try:
            await self.ari.continue_in_dialplan(channel_id, HANDOFF_CONTEXT, HANDOFF_EXTEN)
        except (SecretaryError, AriError) as exc:
            log.error("stopping: call %s not handed back (%s); hanging up", channel_id, exc)
            await self.ari.hangup(channel_id)

    def _call_done(self, session: CallSession, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        self.calls.pop(session, None)
        for key in [k for k, v in self.sessions.items() if v is session]:
            del self.sessions[key]
        if not self.calls:
            self.trimmer.soon()

    async def _reconcile(self) -> None:
        """After a reconnect: calls whose channel vanished while we were away are over."""
        for session in {s for s in self.sessions.values()}:
            if await self.ari.channel(session.channel_id) is None:
                session.end(EndReason.LOST_ON_RECONNECT)

    # --- stop ----------------------------------------------------------------------------
    def stop(self) -> None:
        """The first stop drains: no new calls, each live one handed back to the dialplan
        within `shutdown.drain_s`, then the app stops. A second stops at once (the calls are
        ended, their records closed)."""
        if self._draining is None and not self._stopping.is_set():
            self._draining = asyncio.create_task(self.drain(self.cfg.shutdown.drain_s),
                                                 name="drain")
            self.tasks.add(self._draining)
            return
        if not self._stopping.is_set():
            log.warning("stopping at once: %d live call(s) ended", len(self.calls))
        self._stopping.set()

    async def drain(self, drain_s: float) -> None:
        """Hand every live call back to the dialplan (`CallSession.hand_back`) and wait for
        them to leave, at most `drain_s`; then stop."""
        calls = dict(self.calls)
        self.metrics.draining.set(1)
        started = asyncio.get_running_loop().time()
        log.warning("stopping: handing %d live call(s) back to the dialplan (at most %.0f s)",
                    len(calls), drain_s)
        cut_after_s = max(0.0, drain_s - HAND_BACK_S)  # a reply still going is cut then
        handing = [asyncio.create_task(session.hand_back(cut_after_s)) for session in calls]
        try:
            if calls:
                await asyncio.wait(calls.values(), timeout=drain_s)
        finally:
            for task in handing:
                task.cancel()
            await asyncio.gather(*handing, return_exceptions=True)
        left = [session.call_id for session, task in calls.items() if not task.done()]
        took = asyncio.get_running_loop().time() - started
        if left:
            log.warning("stopping: %d call(s) still live after %.1f s, ending them: %s",
                        len(left), took, ", ".join(left))
        else:
            log.info("stopping: every call handed back in %.1f s", took)
        self._stopping.set()

    async def close(self) -> None:
        self._stopping.set()
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.trimmer.wait()
        if self._stream is not None:
            await self._stream.close()
            try:
                await self.lease.release()
            except (SecretaryError, AriError) as exc:
                log.debug("lease not released: %s", exc)
        await self.notifications.drain(timeout_s=10.0)
        await self.console.close()
        if self.spool.waiting():
            await self.spool.flush()
        self.spool.save()
        await self.ari.close()
        if self.llm is not None:
            await self.llm.aclose()
        await self.store.close()


async def _remove_leftovers(what: str, listed: Any, prefix: str,
                            remove: Callable[[str], Awaitable[Any]]) -> None:
    for entry in listed if isinstance(listed, list) else []:
        found = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(found, str) or not found.startswith(prefix):
            continue
        log.warning("removing leftover %s %s", what, found)
        try:
            await remove(found)
        except AriError as exc:
            log.warning("leftover %s %s not removed: %s", what, found, exc)
