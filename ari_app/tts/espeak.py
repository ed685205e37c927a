"""espeak-ng, the always-available robotic fallback: `espeak-ng -v VOICE --stdout`."""

from __future__ import annotations

import asyncio

from ari_app.errors import EngineUnavailable
from ari_app.tts.base import SubprocessTts

ESPEAK_BINARY = "espeak-ng"
DEFAULT_RATE = 22050
_FIX = "install the Debian package: apt-get install espeak-ng"


class EspeakTts(SubprocessTts):
    """espeak-ng voice ("ru", "en", "en-us", ...) as s16le at 22050 Hz."""

    engine = "espeak-ng"

    def __init__(self, voice: str, binary: str = ESPEAK_BINARY, speed_wpm: int | None = None):
        super().__init__(f"espeak:{voice}", voice, binary, DEFAULT_RATE)
        self._speed = speed_wpm

    def _fix(self) -> str:
        return _FIX

    async def _probe(self, exe: str) -> None:
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

    def _argv(self, exe: str) -> list[str]:
        argv = [exe, "-v", self.voice, "--stdout", "-b", "1"]
        if self._speed:
            argv += ["-s", str(self._speed)]
        return argv
