"""espeak-ng, the always-available robotic fallback: `espeak-ng -v VOICE --stdout`."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator

from ari_app.errors import EngineUnavailable
from ari_app.tts.base import speak_sentences_by_subprocess

ESPEAK_BINARY = "espeak-ng"
DEFAULT_RATE = 22050
_FIX = "install the Debian package: apt-get install espeak-ng"


class EspeakTts:
    """espeak-ng voice ("ru", "en", "en-us", ...) as s16le at 22050 Hz."""

    def __init__(self, voice: str, binary: str = ESPEAK_BINARY, speed_wpm: int | None = None):
        self.voice = voice
        self.name = f"espeak:{voice}"
        self.sample_rate = DEFAULT_RATE
        self._binary = binary
        self._speed = speed_wpm
        self._exe: str | None = None

    async def load(self) -> None:
        if self._exe is not None:
            return
        exe = shutil.which(self._binary)
        if exe is None:
            raise EngineUnavailable(f"{self._binary} not found; {_FIX}")
        proc = await asyncio.create_subprocess_exec(
            exe,
            "-q",
            "-v",
            self.voice,
            "x",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        if await proc.wait() != 0:
            raise EngineUnavailable(f"espeak-ng has no voice {self.voice!r}; {_FIX}")
        self._exe = exe

    def _argv(self, exe: str) -> list[str]:
        argv = [exe, "-v", self.voice, "--stdout", "-b", "1"]
        if self._speed:
            argv += ["-s", str(self._speed)]
        return argv

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        await self.load()
        assert self._exe is not None
        async for pcm in speak_sentences_by_subprocess(
            self._argv(self._exe), text, self.sample_rate, "espeak-ng"
        ):
            yield pcm
