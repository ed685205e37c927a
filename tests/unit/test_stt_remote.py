"""Speech to text on an inference server (stt/remote.py): the request an OpenAI-compatible
server expects, its answer read, and the local engine standing in when the server fails,
is slow or answers nonsense, then left alone for a while. The servers here are fakes
(httpx.MockTransport), named as such; the local engine is a fake too."""

from __future__ import annotations

import asyncio
import io
import wave

import httpx
import pytest

from ari_app.config import parse_config
from ari_app.engines import remote_first
from ari_app.errors import ConfigError
from ari_app.stt.base import Transcript
from ari_app.stt.remote import RemoteFirstStt, RemoteStt, RemoteSttError, RemoteSttOptions
from ari_app.turn.timings import TurnTimings

PCM = b"\x01\x00" * 16000  # one second at 16 kHz


class FakeLocalStt:
    sample_rate = 16000
    pending = 2

    def __init__(self) -> None:
        self.heard = 0

    async def load(self) -> None:
        pass

    async def transcribe(self, pcm: bytes, language: str, *,
                         prompt: str | None = None) -> Transcript:
        self.heard += 1
        return Transcript("местный", language, len(pcm) / 32000, 0.2)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fake_server(handler: object) -> httpx.MockTransport:
    return httpx.MockTransport(handler)  # type: ignore[arg-type]


def remote(transport: httpx.MockTransport, **kw: object) -> RemoteStt:
    return RemoteStt(RemoteSttOptions("http://gpu.example:8000/v1", **kw),  # type: ignore[arg-type]
                     transport=transport)


async def test_a_turn_is_sent_as_the_api_expects_and_its_text_read() -> None:
    seen: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"text": "  Здравствуйте, это Иван. "})

    stt = remote(fake_server(server), model="large-v3", api_key="sk-test")
    heard = await stt.transcribe(PCM, "ru", prompt="Компания Ромашка")
    assert (heard.text, heard.language, heard.source) == ("Здравствуйте, это Иван.", "ru",
                                                           "remote")
    assert heard.audio_s == pytest.approx(1.0) and heard.remote_ms is not None
    (request,) = seen
    assert request.url == "http://gpu.example:8000/v1/audio/transcriptions"
    assert request.headers["authorization"] == "Bearer sk-test"
    body = request.read()
    for field, value in (("model", "large-v3"), ("language", "ru"),
                         ("prompt", "Компания Ромашка"), ("response_format", "json")):
        assert f'name="{field}"\r\n\r\n{value}\r\n'.encode() in body, field
    wav_at = body.index(b"RIFF")
    with wave.open(io.BytesIO(body[wav_at:wav_at + 44 + len(PCM)])) as w:
        assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (16000, 2, 1)
        assert w.getnframes() == len(PCM) // 2


@pytest.mark.parametrize("answer, says", [
    (httpx.Response(503, text="overloaded"), "HTTP 503"),
    (httpx.Response(200, text="<html>"), "not a transcription"),
    (httpx.Response(200, json={"txt": "x"}), "not a transcription"),
])
async def test_a_bad_answer_is_an_error_saying_what(answer: httpx.Response, says: str) -> None:
    stt = remote(fake_server(lambda request: answer))
    with pytest.raises(RemoteSttError, match=says):
        await stt.transcribe(PCM, "en")


async def test_the_local_engine_hears_when_the_server_fails_and_for_a_while_after() -> None:
    calls = {"n": 0}

    def server(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"text": "с сервера"})

    local, clock, failures = FakeLocalStt(), FakeClock(), []
    stt = RemoteFirstStt(remote(fake_server(server), retry_after_s=30.0), local, clock,
                         failures.append)
    first = await stt.transcribe(PCM, "ru")
    assert (first.text, first.source) == ("местный", "local") and len(failures) == 1
    clock.now += 29  # within retry_after_s: the server is not asked
    assert (await stt.transcribe(PCM, "ru")).source == "local"
    assert calls["n"] == 1 and local.heard == 2
    clock.now += 2  # then it is, and answers
    again = await stt.transcribe(PCM, "ru")
    assert (again.text, again.source) == ("с сервера", "remote") and local.heard == 2
    assert stt.pending == 2  # the local engine's queue (nothing in flight now)


async def test_a_server_slower_than_its_timeout_costs_one_timeout() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json={"text": "поздно"})

    local = FakeLocalStt()
    stt = RemoteFirstStt(remote(httpx.MockTransport(slow), timeout_s=0.05), local)
    heard = await asyncio.wait_for(stt.transcribe(PCM, "ru"), 2)
    assert heard.source == "local" and heard.text == "местный"


def test_the_record_and_metrics_carry_the_servers_time() -> None:
    timings = TurnTimings(stt_ms=420.0, stt_remote_ms=310.5, stt_remote=True)
    record = timings.as_record()
    assert (record["stt_remote_ms"], record["stt_remote"]) == (310.5, 1.0)
    assert "stt_remote" not in TurnTimings(stt_ms=400.0).as_record()


def test_config_names_the_key_of_a_bad_remote() -> None:
    base = {"ari": {"password": "x"}, "stt": {"remote": {"base_url": "gpu-box:8000"}}}
    with pytest.raises(ConfigError, match=r"stt\.remote\.base_url"):
        parse_config(base, "secretary.yaml")
    vosk = {"ari": {"password": "x"},
            "stt": {"engine": "vosk", "remote": {"base_url": "http://gpu:8000/v1"}}}
    with pytest.raises(ConfigError, match=r"stt"):
        parse_config(vosk, "secretary.yaml")
    good = parse_config({"ari": {"password": "x"}, "stt": {"remote": {
        "base_url": "http://gpu:8000/v1", "api_key_env": "STT_KEY"}}}, "secretary.yaml")
    assert good.stt.remote is not None
    with pytest.raises(ConfigError, match="STT_KEY"):
        remote_first(good.stt.remote, FakeLocalStt(), env={})
    built = remote_first(good.stt.remote, FakeLocalStt(), env={"STT_KEY": "k"})
    assert built.remote.options.api_key == "k"
