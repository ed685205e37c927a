"""The secretary's side of the media leg: speaks a reply through the 20 ms pacer.

The reply is cut into sentences; a producer task synthesises them one after another,
ahead of playback, while the consumer sends frames on the clock. Consecutive sentences are
joined with a 10 ms crossfade, and the level is brought to a phone target (-18 dBFS) by a
slow gain with a limiter, whichever engine spoke. A barge-in stops the
consumer at the next frame: what was queued is dropped, and only the sentences fully
played count as said. A synthesiser that fails ends the reply where it failed: the
sentences played before count as said, and the result says it failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, field

from ari_app.media.joiner import SentenceJoiner
from ari_app.media.loudness import Loudness
from ari_app.media.pacer import FramePacer, FrameSplitter
from ari_app.media.resample import Resampler
from ari_app.media.transport import MediaTransport
from ari_app.tts.base import TextToSpeech
from ari_app.tts.chunker import pieces_of, speakable_pieces

log = logging.getLogger(__name__)

_END = object()


class SynthesisFailed(Exception):
    """The synthesiser failed on a piece of the reply."""

    def __init__(self, piece: str, cause: Exception) -> None:
        super().__init__(f"{cause.__class__.__name__}: {cause} (on {piece!r})")


@dataclass
class Spoken:
    """One reply as the caller got it."""

    said: str  # the sentences the caller heard in full
    unsaid: str  # dropped by a barge-in or a synthesis failure
    interrupted: bool
    started: float  # loop time
    first_audio: float | None  # loop time of the first frame sent
    ended: float  # loop time of the last frame sent (or of the stop)
    stop_latency_s: float | None = None  # interrupt() -> last frame sent
    first_chunk: float | None = None  # loop time the synthesiser delivered its first audio
    send_jitter_ms: list[float] = field(default_factory=list)  # |gap - 20 ms| between frames
    # set by the session: when the caller's interrupting speech began, and the turn's row
    # in the call record
    barge_onset: float | None = None
    row: int | None = None
    # the synthesiser failed: nothing after `said` was played (`error` says why)
    failed: bool = False
    error: str | None = None


class Speaker:
    def __init__(
        self,
        transport: MediaTransport,
        loop: asyncio.AbstractEventLoop,
        on_frame: Callable[[bytes, float], None],
    ) -> None:
        self.transport = transport
        self.loop = loop
        self.on_frame = on_frame  # recorder and echo reference
        self._stop = asyncio.Event()
        self._stop_at: float | None = None
        self._sentences: list[str] = []
        self._done = 0
        self._started = 0.0
        self._first_audio: float | None = None

    def progress(self) -> Spoken:
        """What has been said so far, for a reply cut short by a hangup."""
        done = self._done
        return Spoken(
            said=" ".join(self._sentences[:done]),
            unsaid=" ".join(self._sentences[done:]),
            interrupted=done < len(self._sentences),
            started=self._started,
            first_audio=self._first_audio,
            ended=self.loop.time(),
        )

    def interrupt(self) -> None:
        if not self._stop.is_set():
            self._stop_at = self.loop.time()
            self._stop.set()
            self.transport.flush()

    async def say(self, text: str, tts: TextToSpeech) -> Spoken:
        """Speak a reply known in full."""
        return await self.say_stream(pieces_of(text), tts)

    async def say_tokens(self, tokens: AsyncIterable[str], tts: TextToSpeech) -> Spoken:
        """Speak a reply while it is being written: each sentence (or clause of a long
        one) is synthesised as soon as its last token arrives."""
        return await self.say_stream(speakable_pieces(tokens), tts)

    async def say_stream(self, pieces: AsyncIterator[str], tts: TextToSpeech) -> Spoken:
        self._stop = asyncio.Event()
        self._stop_at = None
        sentences: list[str] = []
        self._sentences = sentences
        self._done = 0
        self._first_audio = None
        queue: asyncio.Queue[object] = asyncio.Queue()
        producer = asyncio.create_task(self._produce(pieces, sentences, tts, queue))
        rate = self.transport.sample_rate
        resampler = Resampler(tts.sample_rate, rate)
        splitter = FrameSplitter(rate)
        joiner = SentenceJoiner(rate)
        loudness = Loudness()
        # a transport with its own sending clock (RTP's sender thread) is only fed; it
        # measures the jitter itself, as it sends
        self_paced = self.transport.paced
        if self_paced:
            self.transport.take_send_jitter()  # what an earlier reply left
        pacer = FramePacer(clock=self.loop.time)  # the loop's clock, as every other time here
        started = self._started = self.loop.time()
        first_audio: float | None = None
        last_sent = started
        done = 0  # sentences fully played
        jitter: list[float] = []
        first_chunk: float | None = None
        try:
            while not self._stop.is_set():
                item = await self._next(queue)
                if item is None:
                    break
                if item is _END:  # the last sentence's held tail, faded out
                    frames = [*splitter.push(joiner.flush()), *splitter.flush()]
                elif isinstance(item, int):  # the end of sentence `item`
                    frames = splitter.push(joiner.push(resampler.flush()))
                    joiner.end_piece()
                else:
                    assert isinstance(item, bytes)
                    if first_chunk is None:
                        first_chunk = self.loop.time()
                    frames = splitter.push(joiner.push(resampler.process(item)))
                for frame in frames:
                    if self._stop.is_set():
                        break
                    frame = loudness.process(frame)
                    now = self.loop.time()
                    if first_audio is None:
                        first_audio = self._first_audio = now
                    await self.transport.write_frame(frame)
                    if not self_paced and now > started and last_sent > started:
                        jitter.append(abs((now - last_sent) * 1000 - 20.0))
                    last_sent = now
                    self.on_frame(frame, now)
                    if not self_paced:
                        await pacer.wait()
                else:
                    if isinstance(item, int):
                        done = self._done = item + 1
                    if item is _END:
                        break
        finally:
            unfinished = not producer.done()  # text was still coming when we stopped
            if unfinished:
                producer.cancel()
            failure: SynthesisFailed | None = None
            with contextlib.suppress(asyncio.CancelledError):
                error = await asyncio.gather(producer, return_exceptions=True)
                if error and isinstance(error[0], SynthesisFailed):
                    failure = error[0]
                    log.error("speech synthesis failed: %s", failure)
                elif error and isinstance(error[0], Exception):
                    log.error("the reply's text failed: %s", error[0])
        interrupted = self._stop.is_set() and (done < len(sentences) or unfinished)
        if interrupted:
            self.transport.flush()
            await self.transport.flush_far_end()
        elif self_paced:
            await self.transport.drained()
        if self_paced:
            jitter = self.transport.take_send_jitter()
        stop_latency = (
            max(0.0, last_sent - self._stop_at) if interrupted and self._stop_at else None
        )
        return Spoken(
            said=" ".join(sentences[:done]),
            unsaid=" ".join(sentences[done:]),
            interrupted=interrupted,
            started=started,
            first_audio=first_audio,
            ended=self.loop.time() if not interrupted else last_sent,
            stop_latency_s=stop_latency,
            first_chunk=first_chunk,
            send_jitter_ms=jitter,
            failed=failure is not None,
            error=None if failure is None else str(failure),
        )

    async def _next(self, queue: asyncio.Queue[object]) -> object | None:
        """The next item, or None when stopped while waiting for the synthesiser."""
        getter = asyncio.ensure_future(queue.get())
        stopper = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if getter.done():
            return getter.result()
        getter.cancel()
        return None

    @staticmethod
    async def _produce(
        pieces: AsyncIterator[str],
        sentences: list[str],
        tts: TextToSpeech,
        queue: asyncio.Queue[object],
    ) -> None:
        try:
            async for piece in pieces:
                sentences.append(piece)
                try:
                    async for chunk in tts.synthesize(piece):
                        await queue.put(chunk)
                except Exception as exc:
                    raise SynthesisFailed(piece, exc) from exc
                await queue.put(len(sentences) - 1)
        finally:
            await queue.put(_END)
