"""A language model provider that flaps, on a real call: the first provider ("flappy") is the
real llama.cpp server with the packaged SmolLM2 behind a TCP proxy written here, which
drops every other connection (accepts it, then resets it: the client sees the connection
reset) and passes the others through; the second provider is the same server reached
directly. Over three questions on one call, every turn is answered (by flappy when its
connection passes, by the next provider when it is dropped), nothing goes silent at the
caller's end, and the call ends with a closed record.

The proxy adds `Connection: close` to each request it passes, so that one request is one
connection and the pattern (drop, pass, drop, ...) falls on the turns in order."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from callkit import answer, dial, loudest, next_call, wait_asterisk_clean
from conftest import AsteriskTestbed, RunningApp

from ari_app.llm.local_server import LocalLlamaServer, free_port
from testkit.local import SHORT_GREETING, LocalApp, write_config
from testkit.scenario import CallerLine

pytestmark = pytest.mark.integration

QUESTIONS = 3
WARMED_RU = "LLM warm-up direct/default:ru: prompt processed"


class FlappingProxy:
    """127.0.0.1:`port` -> 127.0.0.1:`upstream`. While `flapping`, connections alternate
    drop, pass, drop, ...; otherwise all pass. `modes` lists what each connection got."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.flapping = False
        self.modes: list[str] = []
        self._cycle = itertools.cycle(["drop", "pass"])
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start_flapping(self) -> None:
        self._cycle = itertools.cycle(["drop", "pass"])
        self.modes.clear()
        self.flapping = True

    def __enter__(self) -> FlappingProxy:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        mode = next(self._cycle) if self.flapping else "pass"
        self.modes.append(mode)
        if mode == "drop":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()  # RST: "connection reset by peer"
            return
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = [ln for ln in head.split(b"\r\n")[:-2] if not ln.lower().startswith(b"connection:")]
        head = b"\r\n".join([*lines, b"Connection: close", b"", b""])
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        up_writer.write(head)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(OSError):
                dst.close()

        upward = asyncio.ensure_future(pump(reader, up_writer))
        await pump(up_reader, writer)  # the server closes after its response
        upward.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await upward


@pytest.fixture(scope="module")
def proxy(llama: LocalLlamaServer) -> Iterator[FlappingProxy]:
    port = int(re.sub(r".*:(\d+)/v1$", r"\1", llama.base_url))
    with FlappingProxy(port) as running:
        yield running


@pytest.fixture(scope="module")
def secretary_app(
    asterisk_testbed: AsteriskTestbed,
    tmp_path_factory: pytest.TempPathFactory,
    llama: LocalLlamaServer,
    proxy: FlappingProxy,
) -> Iterator[RunningApp]:
    # temperature 0: greedy, so the model says the same on every run (a sampled word could
    # be a tool call that ends the call before the third question)
    common = {"kind": "openai", "model": "local", "first_token_timeout_s": 30,
              "total_timeout_s": 90, "max_tokens": 16, "temperature": 0}  # fmt: skip
    overrides = {
        "llm": {
            "filler_after_s": 0.3,
            "providers": [
                # the same server as "direct": its warm-up would only repeat direct's
                {**common, "name": "flappy", "base_url": f"http://127.0.0.1:{proxy.port}/v1",
                 "warm_up": False},
                {**common, "name": "direct", "base_url": llama.base_url},
            ],
        }
    }
    directory = tmp_path_factory.mktemp("secretary-llm-flapping")
    config = write_config(directory, overrides, SHORT_GREETING)
    data = yaml.safe_load(config.read_text())
    data["lines"] = {"testbed-ru": data["lines"]["testbed-ru"]}  # one prompt to warm, not two
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    app = LocalApp(config, directory / "secretary.log").start()
    try:
        # the warm-up (llm/warmup.py) puts the system prompt in the server's cache: a turn
        # before it would wait behind it
        deadline = time.monotonic() + 120
        while WARMED_RU not in app.output and time.monotonic() < deadline:
            time.sleep(0.2)
        yield RunningApp(app=app, config=config, db=directory / "calls.sqlite3")
    finally:
        rc = app.stop()
        assert rc == 0, f"secretary exited {rc} on SIGTERM:\n{app.output[-3000:]}"


def test_flapping_provider_every_turn_is_answered(
    secretary_app: RunningApp,
    proxy: FlappingProxy,
    caller_audio: dict[str, Path],
    tmp_path: Path,
) -> None:
    before = len(secretary_app.app.output)
    proxy.start_flapping()
    ask = caller_audio["ru_ask_llm"]
    result = dial(
        exten="100",
        utterances=[
            # after the greeting; then a fixed pause that covers the filler and the model's
            # words (their pause can outlast a sentence's)
            answer(ask),
            *[CallerLine(ask, pause_before_ms=7000) for _ in range(QUESTIONS - 1)],
            CallerLine(caller_audio["ru_bye"], pause_before_ms=7000),
        ],
        workdir=tmp_path,
        hangup="remote",
        hangup_wait_ms=15000,
        timeout_s=90,
    )
    assert result.sipp_rc == 0, result.sipp_log
    log = secretary_app.app.output[before:]
    print(f"\nproxy: {proxy.modes}")
    # the provider flapped during the call (one connection per request: drop, pass, drop;
    # more if the model called a tool), and each dropped request was handed over at once
    assert proxy.modes[:2] == ["drop", "pass"] and len(proxy.modes) >= QUESTIONS, proxy.modes
    failed = re.findall(r"llm flappy (?:failed|failed unexpectedly)", log)
    assert len(failed) == proxy.modes.count("drop"), log[-4000:]

    call = next_call(secretary_app)
    assert call["ended_at"], call  # the record is closed
    turns = call["turns"]
    answers = [t for t in turns if t["who"] == "secretary" and "llm_first_event_ms" in t["timings"]]
    assert len(answers) == QUESTIONS, turns
    for said in answers:
        timings = json.loads(said["timings"])
        assert said["text"].strip(), said  # something was said
        assert "llm_unavailable" not in timings, said  # a model answered, not the rules
        assert timings["llm_first_event_ms"] < 1500, timings  # filler or words: no dead air

    # at the caller's end: the secretary's voice within a few seconds of each question
    assert result.timeline_origin is not None
    for i, end in enumerate(result.utterance_end_times[:QUESTIONS]):
        assert end is not None, i
        level = loudest(result.received_pcm, result.timeline_origin, end + 0.2, end + 5.0)
        assert level > -35.0, (i, level)
    channels, bridges = wait_asterisk_clean()
    assert channels == [] and bridges == []
