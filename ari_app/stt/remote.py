"""Speech to text on a shared inference server: an OpenAI-compatible
`POST {base_url}/audio/transcriptions` (vLLM, faster-whisper-server, OpenAI itself), and the
local engine standing behind it.

`RemoteStt` sends each finished turn as a 16-bit WAV with the language and the prompt and
reads `{"text": ...}` back. `RemoteFirstStt` asks the server first and the local engine when
the server fails or is slower than its timeout; after a failure the server is left alone for
`retry_after_s`, so a dead server costs one timeout, not one per turn. Each turn's transcript
says which of them heard it and how long the server took (`Transcript.source`,
`Transcript.remote_ms`), for the metrics and the call's record.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import httpx

from ari_app.api.audio import encode_wav
from ari_app.errors import EngineUnavailable
from ari_app.stt.base import SpeechToText, Transcript

log = logging.getLogger(__name__)

RATE = 16000  # what the call path gives a batch recogniser (as Whisper's own)


class RemoteSttError(Exception):
    """The server did not answer with a transcript: the reason, without the key."""


@dataclass(frozen=True)
class RemoteSttOptions:
    base_url: str  # ".../v1"
    model: str = "whisper-1"
    timeout_s: float = 3.0
    api_key: str | None = None
    retry_after_s: float = 30.0  # after a failure, the local engine alone for this long


class RemoteStt:
    """One OpenAI-compatible transcription server."""

    sample_rate = RATE

    def __init__(self, options: RemoteSttOptions,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.options = options
        headers = {"Authorization": f"Bearer {options.api_key}"} if options.api_key else {}
        self._client = httpx.AsyncClient(base_url=options.base_url.rstrip("/") + "/",
                                         headers=headers, transport=transport,
                                         timeout=options.timeout_s)
        self.in_flight = 0

    async def load(self) -> None:
        """Nothing to load: the server is asked per turn (and may be down at start)."""

    async def close(self) -> None:
        await self._client.aclose()

    async def transcribe(self, pcm: bytes, language: str, *,
                         prompt: str | None = None) -> Transcript:
        started = time.monotonic()
        data = {"model": self.options.model, "language": language, "response_format": "json",
                "temperature": "0"}
        if prompt:
            data["prompt"] = prompt
        files = {"file": ("turn.wav", encode_wav(pcm, RATE), "audio/wav")}
        self.in_flight += 1
        try:  # httpx's timeouts are per read or write: this one is for the whole answer
            async with asyncio.timeout(self.options.timeout_s):
                response = await self._client.post("audio/transcriptions", data=data,
                                                   files=files)
        except (httpx.TimeoutException, TimeoutError):
            raise RemoteSttError(f"no answer within {self.options.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise RemoteSttError(f"{type(exc).__name__}: {exc}") from None
        finally:
            self.in_flight -= 1
        if response.status_code != 200:
            raise RemoteSttError(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            text = response.json()["text"]
        except (ValueError, KeyError, TypeError):
            raise RemoteSttError(f"not a transcription: {response.text[:200]}") from None
        if not isinstance(text, str):
            raise RemoteSttError("not a transcription: text is not a string")
        elapsed = time.monotonic() - started
        return Transcript(text.strip(), language, len(pcm) / 2 / RATE, elapsed,
                          source="remote", remote_ms=round(elapsed * 1000, 1))


class RemoteFirstStt:
    """The server first; the local engine when it fails, and for a while after."""

    def __init__(self, remote: RemoteStt, local: SpeechToText,
                 clock: Callable[[], float] = time.monotonic,
                 on_failure: Callable[[str], None] | None = None) -> None:
        if local.sample_rate != remote.sample_rate:
            raise EngineUnavailable(
                f"stt.remote: the local engine hears {local.sample_rate} Hz, the server "
                f"is sent {remote.sample_rate} Hz")
        self.remote = remote
        self.local = local
        self._clock = clock
        self._on_failure = on_failure
        self._skip_until = 0.0

    @property
    def sample_rate(self) -> int:
        return self.local.sample_rate

    @property
    def pending(self) -> int:
        """Turns waiting for a transcript, here or on the server (the capacity bound reads it)."""
        return int(getattr(self.local, "pending", 0)) + self.remote.in_flight

    async def load(self) -> None:
        await self.remote.load()
        await self.local.load()

    async def transcribe(self, pcm: bytes, language: str, *,
                         prompt: str | None = None) -> Transcript:
        now = self._clock()
        if now >= self._skip_until:
            try:
                return await self.remote.transcribe(pcm, language, prompt=prompt)
            except RemoteSttError as exc:
                self._skip_until = self._clock() + self.remote.options.retry_after_s
                log.warning("stt: the server %s failed (%s); the local engine hears this "
                            "turn and the next %g s", self.remote.options.base_url, exc,
                            self.remote.options.retry_after_s)
                if self._on_failure is not None:
                    self._on_failure(str(exc))
        heard = await self.local.transcribe(pcm, language, prompt=prompt)
        return replace(heard, source="local")
