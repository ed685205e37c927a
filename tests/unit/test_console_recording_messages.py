"""A call's recording served to the console (both tracks as one stereo WAV, HTTP Range for
seeking, 404 without one) and messages marked handled (CSRF, who, kept, audited)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
from console_fixtures import console, login

from ari_app.call.ending import EndReason
from ari_app.console.auth import CSRF_HEADER


def track(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(samples.astype("<i2").tobytes())
    return path


async def test_the_recording_is_one_stereo_wav_with_ranges(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        caller = track(tmp_path / "c1-caller.wav", np.arange(800) % 1000)
        secretary = track(tmp_path / "c1-secretary.wav", -(np.arange(400) % 500))
        for call_id in ("c1", "c2"):
            await c.store.start_call(call_id, "ch", "ru-gsm", "PJSIP/x", "+7916", "ru",
                                     started_at=1000.0)
            await c.store.end_call(call_id, EndReason.CALLER_HANGUP, ended_at=1010.0)
        await c.store.set_recordings("c1", caller, secretary)
        assert (await client.get("/api/calls/c1/audio")).status_code == 401
        await login(client, "rita")
        whole = await client.get("/api/calls/c1/audio")
        assert whole.status_code == 200, whole.text
        assert whole.headers["content-type"] == "audio/wav"
        assert whole.headers["accept-ranges"] == "bytes"
        both = tmp_path / "c1-both.wav"
        assert whole.content == both.read_bytes()
        with wave.open(str(both), "rb") as wav:
            assert (wav.getnchannels(), wav.getframerate(), wav.getnframes()) == (2, 8000, 800)
            frames = np.frombuffer(wav.readframes(800), "<i2").reshape(-1, 2)
        assert list(frames[:3, 0]) == [0, 1, 2] and list(frames[:3, 1]) == [0, -1, -2]
        assert not frames[400:, 1].any()  # the shorter track padded with silence
        part = await client.get("/api/calls/c1/audio", headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 1000-1999/{len(whole.content)}"
        assert part.content == whole.content[1000:2000]
        tail = await client.get("/api/calls/c1/audio", headers={"Range": "bytes=-10"})
        assert tail.status_code == 206 and tail.content == whole.content[-10:]
        assert (await client.get("/api/calls/c2/audio")).status_code == 404  # none kept
        assert (await client.get("/api/calls/nope/audio")).status_code == 404
        caller.unlink()
        (tmp_path / "c1-both.wav").unlink()
        assert (await client.get("/api/calls/c1/audio")).status_code == 404  # files gone


async def test_a_message_marked_handled_stays_so(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        first = await c.store.add_message(None, {"name": "Иван", "reason": "счёт"})
        await c.store.add_message(None, {"name": "Ann", "reason": "price"})
        csrf = await login(client, "rita")
        url = f"/api/messages/{first}/handled"
        assert (await client.post(url, json={"handled": True})).status_code == 403  # no CSRF
        headers = {CSRF_HEADER: csrf}
        marked = await client.post(url, json={"handled": True}, headers=headers)
        assert marked.status_code == 200, marked.text
        assert marked.json()["handled"] is True and marked.json()["handled_by"] == "rita"
        items = {m["id"]: m for m in (await client.get("/api/messages")).json()["items"]}
        assert (items[first]["handled"], items[first]["handled_by"]) == (True, "rita")
        assert [m["handled"] for m in items.values() if m["id"] != first] == [False]
        undone = await client.post(url, json={"handled": False}, headers=headers)
        assert (undone.json()["handled"], undone.json()["handled_by"]) == (False, None)
        assert (await client.post("/api/messages/999/handled", json={"handled": True},
                                  headers=headers)).status_code == 404
        assert (await client.post(url, json={"handled": "maybe"}, headers=headers)
                ).status_code == 422
        audit = [(a["who"], a["what"], a["details"]) for a in await c.users.audit_log(5)]
        assert ("rita", "message_handled", {"message_id": first, "handled": False}) in audit
