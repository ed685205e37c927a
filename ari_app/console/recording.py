"""A call's recording as one file for the console (`GET /api/calls/{call_id}/audio`): the two
tracks the call recorder wrote (`call/recorder.py`: the caller's and the secretary's, on
one timeline) as one stereo WAV, the caller on the left and the secretary on the right.

It is made once, on first request after the call ended, beside the two tracks
(`<call_id>-both.wav`), and served from then on as a plain file (HTTP Range works).
"""

from __future__ import annotations

import asyncio
import os
import wave
from pathlib import Path

import numpy as np

BOTH_SUFFIX = "-both.wav"


class RecordingMissing(Exception):
    """The call has no recording (none kept, or its files are gone)."""


def _read(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise RecordingMissing(f"{path}: not 16-bit mono")
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2"), wav.getframerate()


def join_tracks(caller: Path, secretary: Path, out: Path) -> Path:
    """Write the stereo file of the two tracks (the shorter padded with silence)."""
    try:
        left, rate = _read(caller)
        right, right_rate = _read(secretary)
    except (OSError, EOFError, wave.Error) as exc:
        raise RecordingMissing(str(exc)) from exc
    if rate != right_rate:
        raise RecordingMissing(f"{caller} and {secretary} differ in sample rate")
    length = max(len(left), len(right))
    both = np.zeros((length, 2), dtype="<i2")
    both[: len(left), 0] = left
    both[: len(right), 1] = right
    partial = out.with_name(out.name + ".part")
    with wave.open(str(partial), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(both.tobytes())
    os.replace(partial, out)  # whole or not at all, for a request at the same time
    return out


async def recording_of(call: dict[str, object]) -> Path:
    """The stereo file of an ended call's recording (made on first use)."""
    caller, secretary = call.get("caller_wav"), call.get("secretary_wav")
    if not caller or not secretary or call.get("ended_at") is None:
        raise RecordingMissing("no recording")
    caller_path, secretary_path = Path(str(caller)), Path(str(secretary))
    out = caller_path.with_name(f"{call['call_id']}{BOTH_SUFFIX}")
    if out.is_file():
        return out
    return await asyncio.to_thread(join_tracks, caller_path, secretary_path, out)
