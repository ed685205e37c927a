"""A streaming recogniser on the call path: fed every frame of the turn being listened to
(in order, off the event loop's critical path), asked for the final words when the turn
ends - which then takes milliseconds instead of a whole transcription."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ari_app.stt.base import Transcript
from ari_app.stt.streaming import StreamingRecognizer, StreamingStt

log = logging.getLogger(__name__)


class StreamingTurn:
    def __init__(self, engine: StreamingStt, language: str) -> None:
        self.recognizer: StreamingRecognizer = engine.open_stream(language)
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._feeder = asyncio.create_task(self._feed())
        self.partial = ""

    def feed(self, frame: bytes) -> None:
        self._queue.put_nowait(frame)

    async def _feed(self) -> None:
        while True:
            frame = await self._queue.get()
            try:
                partial = await self.recognizer.accept(frame)
                if partial is not None and partial.text != self.partial:
                    self.partial = partial.text
                    log.debug("partial: %s", partial.text)
            except Exception:
                log.exception("streaming recogniser failed on a frame")
            finally:
                self._queue.task_done()

    async def final(self) -> Transcript:
        """The words of the turn so far; the recogniser starts afresh after."""
        await self._queue.join()
        transcript = await self.recognizer.finish()
        self.partial = ""
        return transcript

    async def discard(self) -> None:
        """Forget what was heard since the last turn (silence, the tail of our echo)."""
        await self.final()

    async def close(self) -> None:
        self._feeder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._feeder
        await self.recognizer.close()
