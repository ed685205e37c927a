"""The text-to-speech contract, and a streaming WAV reader for subprocess engines."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import struct
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ari_app.errors import EngineUnavailable
from ari_app.media.pcm import SampleCarry
from ari_app.tts.text import split_sentences


@runtime_checkable
class TextToSpeech(Protocol):
    """An engine that speaks text as s16le mono PCM at `sample_rate`.

    `synthesize` is an async generator: chunks (any length, whole samples) are yielded as soon
    as they exist, so the first sentence can play while the rest is synthesized. Missing
    binaries or voices raise `ari_app.errors.EngineUnavailable` saying what to install.
    """

    @property
    def name(self) -> str: ...

    @property
    def sample_rate(self) -> int: ...

    def synthesize(self, text: str) -> AsyncIterator[bytes]: ...

    async def load(self) -> None: ...


class WavFormatError(ValueError):
    """The engine's output is not 16-bit PCM mono WAV."""


@dataclass(frozen=True)
class WavFormat:
    sample_rate: int
    channels: int
    bits_per_sample: int


class WavStreamReader:
    """Strips the RIFF/WAVE header from a streamed WAV and returns whole s16le samples.

    Works with streaming headers whose sizes are placeholders (RHVoice and espeak-ng write
    0x7ffff000): the data chunk is read until end of stream, whatever its stated size.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._in_data = False
        self._carry = SampleCarry()
        self.format: WavFormat | None = None

    @property
    def header_done(self) -> bool:
        return self._in_data

    def feed(self, data: bytes) -> bytes:
        """Add bytes from the stream; return the PCM (even length) now available."""
        if self._in_data:
            return self._carry.take(data)
        self._buf.extend(data)
        return self._parse_header()

    def finish(self) -> None:
        """Call at end of stream: raises WavFormatError if the header never completed."""
        if not self._in_data:
            raise WavFormatError(f"stream ended inside the WAV header ({len(self._buf)} bytes)")

    def _parse_header(self) -> bytes:
        buf = self._buf
        if len(buf) < 12:
            return b""
        if buf[0:4] != b"RIFF" or buf[8:12] != b"WAVE":
            raise WavFormatError("output is not a RIFF/WAVE stream")
        pos = 12
        while True:
            if len(buf) < pos + 8:
                return b""
            chunk_id = bytes(buf[pos : pos + 4])
            (size,) = struct.unpack_from("<I", buf, pos + 4)
            body = pos + 8
            if chunk_id == b"data":
                if self.format is None:
                    raise WavFormatError("WAV data chunk before the fmt chunk")
                self._in_data = True
                rest = bytes(buf[body:])
                self._buf = bytearray()
                return self._carry.take(rest)
            if len(buf) < body + size:
                return b""
            if chunk_id == b"fmt ":
                if size < 16:  # the fields below would be read from past its end
                    raise WavFormatError(
                        f"the fmt chunk at byte {pos} has {size} bytes, a PCM one has 16"
                    )
                audio_format, channels, rate = struct.unpack_from("<HHI", buf, body)
                (bits,) = struct.unpack_from("<H", buf, body + 14)
                if audio_format not in (1, 0xFFFE) or bits != 16 or channels != 1:
                    raise WavFormatError(
                        f"need 16-bit PCM mono WAV, got format={audio_format} "
                        f"channels={channels} bits={bits}"
                    )
                self.format = WavFormat(rate, channels, bits)
            pos = body + size + (size & 1)


class SubprocessTtsError(RuntimeError):
    """A TTS subprocess failed; the message carries its exit status and stderr."""


async def stream_wav_subprocess(
    argv: list[str], stdin_text: str, read_size: int = 8192
) -> AsyncGenerator[tuple[WavFormat, bytes], None]:
    """Run `argv`, write `stdin_text` (UTF-8) to it, stream its WAV stdout as PCM chunks.

    Yields (format, pcm) as stdout arrives; header bytes are never yielded. The process is
    killed if the consumer stops early. Raises SubprocessTtsError if it exits non-zero or
    writes no WAV.
    """
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stderr_task = asyncio.ensure_future(proc.stderr.read())
    try:
        try:
            proc.stdin.write(stdin_text.encode("utf-8"))
            await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            proc.stdin.close()
        reader = WavStreamReader()
        while True:
            data = await proc.stdout.read(read_size)
            if not data:
                break
            pcm = reader.feed(data)
            if pcm and reader.format is not None:
                yield reader.format, pcm
        rc = await proc.wait()
        err = (await stderr_task).decode("utf-8", "replace").strip()
        if rc != 0:
            raise SubprocessTtsError(f"{argv[0]} exited with status {rc}: {err[:300]}")
        try:
            reader.finish()
        except WavFormatError as exc:
            raise SubprocessTtsError(f"{argv[0]} wrote no WAV audio: {exc}; {err[:300]}") from exc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        if not stderr_task.done():
            stderr_task.cancel()


_DONE = object()


async def stream_from_thread(
    executor: Executor, produce: Callable[[threading.Event], Iterator[bytes]]
) -> AsyncIterator[bytes]:
    """Run a blocking audio generator in `executor` and yield its chunks here as they come.

    `produce(stop)` is called in the worker thread; it should check `stop` between chunks.
    Its exception is raised here; stopping the iteration early sets `stop`.
    """

    def run(emit: Callable[[bytes], bool], stop: threading.Event) -> None:
        for chunk in produce(stop):
            if not emit(chunk):
                return

    async for chunk in stream_pushed(executor, run):
        yield chunk


async def stream_pushed(
    executor: Executor, run: Callable[[Callable[[bytes], bool], threading.Event], None]
) -> AsyncIterator[bytes]:
    """Run a blocking synthesiser that hands its audio to a callback in `executor`, and
    yield the chunks here as they come.

    `run(emit, stop)` is called in the worker thread; `emit(chunk)` returns False once the
    consumer has stopped listening (then `stop` is set too), and `run` should return.
    Its exception is raised here.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    stop = threading.Event()

    def put(item: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody listens
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def emit(chunk: bytes) -> bool:
        if stop.is_set():
            return False
        put(chunk)
        return True

    def work() -> None:
        try:
            run(emit, stop)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)
        finally:
            put(_DONE)

    future = loop.run_in_executor(executor, work)
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            if item:
                yield item
    finally:
        stop.set()
        if future.done() and not future.cancelled():
            future.exception()  # mark retrieved


async def wav_of_subprocess(
    argv: list[str], text: str, sample_rate: int, engine: str
) -> AsyncIterator[bytes]:
    """The PCM of one `argv` process given `text`, which must come at `sample_rate`. The
    process is killed if the consumer stops early (aclosing), so a barge-in leaves no
    synthesiser behind."""
    stream = stream_wav_subprocess(argv, text)
    async with contextlib.aclosing(stream):
        async for fmt, pcm in stream:
            if fmt.sample_rate != sample_rate:
                raise WavFormatError(f"{engine} wrote {fmt.sample_rate} Hz, expected {sample_rate}")
            yield pcm


class SubprocessTts:
    """A voice spoken by a program on PATH (RHVoice, espeak-ng, Festival): one process per
    sentence, its WAV read from stdout as it comes. A subclass gives the program's command
    line (`_argv`), how to tell that the voice is there (`_probe`, which may learn the output
    rate) and what to do when it is not (`_fix`)."""

    engine = "subprocess"  # the program's name in messages

    def __init__(self, name: str, voice: str, binary: str, sample_rate: int) -> None:
        self.name = name
        self.voice = voice
        self.sample_rate = sample_rate
        self._binary = binary
        self._exe: str | None = None

    async def load(self) -> None:
        """Find the program and check the voice; once."""
        if self._exe is not None:
            return
        exe = shutil.which(self._binary)
        if exe is None:
            raise EngineUnavailable(f"{self._binary} not found; {self._fix()}")
        await self._probe(exe)
        self._exe = exe

    def _fix(self) -> str:
        raise NotImplementedError

    async def _probe(self, exe: str) -> None:
        """Raise EngineUnavailable when the voice cannot speak."""

    def _argv(self, exe: str) -> list[str]:
        raise NotImplementedError

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        await self.load()
        assert self._exe is not None
        argv = self._argv(self._exe)
        for sentence in split_sentences(text):
            async for pcm in wav_of_subprocess(argv, sentence, self.sample_rate, self.engine):
                yield pcm
