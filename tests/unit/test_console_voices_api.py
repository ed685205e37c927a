"""The Voices page's API: clips uploaded and checked as `secretary voice add` checks them
(a bad one named with its reasons, nothing kept), the voices listed, a sentence spoken by
a language's voice (a fake engine), and the choice of voice written to the config."""

from __future__ import annotations

import io
import re
import wave
from collections.abc import AsyncIterator
from pathlib import Path

from console_fixtures import console, login
from test_voices import speech_like, write_wav

from ari_app.config import load_config
from ari_app.console.auth import CSRF_HEADER
from ari_app.console.voices_api import VoiceSetup
from ari_app.engines import Engines

REPO = Path(__file__).resolve().parents[2]
ENV = {"SECRETARY_ARI_PASSWORD": "ari-pass"}


class FakeVoice:
    """Stands in for a TTS engine: 0.1 s of a constant sample per sentence."""

    name = "fake-voice"
    sample_rate = 8000

    def __init__(self) -> None:
        self.said: list[str] = []

    async def load(self) -> None:
        pass

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        self.said.append(text)
        yield b"\x10\x00" * 800


def setup_for(tmp_path: Path) -> tuple[VoiceSetup, FakeVoice, Path]:
    path = tmp_path / "secretary.yaml"
    text = (REPO / "config" / "secretary.example.yaml").read_text(encoding="utf-8")
    # the example names a voices_dir under paths: this test's own instead (one key, not two)
    text, n = re.subn(r"(?m)^  voices_dir: .*$", f"  voices_dir: {tmp_path / 'voices'}", text)
    assert n == 1, "the example config should set paths.voices_dir once"
    path.write_text(text, encoding="utf-8")
    cfg = load_config(path, env=ENV)
    voice = FakeVoice()
    return VoiceSetup(cfg, Engines(stt=None, tts={"ru": voice}), path, ENV), voice, path


async def test_clips_are_checked_and_a_voice_kept(tmp_path: Path) -> None:
    setup, _, _ = setup_for(tmp_path)
    good = [write_wav(tmp_path / f"good{i}.wav", speech_like(3.0 + i)) for i in (1, 2)]
    silent = write_wav(tmp_path / "silent.wav", speech_like(4.0) * 0.0)
    async with console(tmp_path, voices=setup) as c, c.client() as client:
        headers = {CSRF_HEADER: await login(client, "root")}

        def form(paths: list[Path]) -> list[tuple[str, tuple[str, bytes, str]]]:
            return [("files", (p.name, p.read_bytes(), "audio/wav")) for p in paths]

        refused = await client.post("/api/voices", headers=headers, data={"name": "anna"},
                                    files=form([good[0], silent]))
        assert refused.status_code == 422, refused.text
        detail = refused.json()["detail"]
        bad = [clip for clip in detail["clips"] if not clip["ok"]]
        assert [clip["file"] for clip in bad] == ["silent.wav"] and bad[0]["problems"]
        assert (await client.get("/api/voices")).json()["cloned"] == []  # nothing kept
        made = await client.post("/api/voices", headers=headers, data={"name": "anna"},
                                 files=form(good))
        assert made.status_code == 201, made.text
        listed = (await client.get("/api/voices")).json()
        assert [(v["name"], v["clips"]) for v in listed["cloned"]] == [("anna", 2)]
        assert listed["in_use"]["ru"]["engine"] == setup.cfg.tts.voices["ru"].engine
        again = await client.post("/api/voices", headers=headers, data={"name": "anna"},
                                  files=form(good))
        assert again.status_code == 422 and "already exists" in again.text
        twice = await client.post("/api/voices", headers=headers, files=form([good[0]] * 2),
                                  data={"name": "olga"})
        assert twice.status_code == 422
        assert "good1.wav is the same audio as good1.wav" in twice.json()["detail"]["problems"][0]
        audit = [(a["who"], a["what"]) for a in await c.users.audit_log(5)]
        assert ("root", "voice_add") in audit


async def test_a_voice_speaks_and_is_chosen_per_language(tmp_path: Path) -> None:
    setup, voice, path = setup_for(tmp_path)
    async with console(tmp_path, voices=setup) as c, c.client() as client, \
            c.client() as rita:
        await login(rita, "rita")
        assert (await rita.get("/api/voices")).status_code == 403
        headers = {CSRF_HEADER: await login(client, "root")}
        spoken = await client.post("/api/voices/speak", headers=headers,
                                   json={"language": "ru", "text": "Здравствуйте!"})
        assert spoken.status_code == 200 and spoken.headers["content-type"] == "audio/wav"
        with wave.open(io.BytesIO(spoken.content)) as wav:
            assert (wav.getframerate(), wav.getnframes()) == (8000, 800)
        assert voice.said == ["Здравствуйте!"]
        missing = await client.post("/api/voices/speak", headers=headers,
                                    json={"language": "en", "text": "Hello"})
        assert missing.status_code == 404
        chosen = await client.put("/api/voices/choice", headers=headers,
                                  json={"language": "ru", "engine": "espeak", "voice": "ru"})
        assert chosen.status_code == 200 and chosen.json()["restart_needed"] is True
        assert load_config(path, env=ENV).tts.voices["ru"].engine == "espeak"
        # a reload of the page: what runs, and what the next start will use
        listed = (await client.get("/api/voices")).json()
        assert listed["in_use"]["ru"] == setup.cfg.tts.voices["ru"].model_dump()
        assert listed["next_start"] == {"lang:ru": {"engine": "espeak", "voice": "ru"}}
        wrong = await client.put("/api/voices/choice", headers=headers,
                                 json={"language": "ru", "engine": "telepathy", "voice": "x"})
        assert wrong.status_code == 422 and "tts.voices.ru.engine" in wrong.text
        assert load_config(path, env=ENV).tts.voices["ru"].engine == "espeak"


async def test_a_voice_is_chosen_and_heard_per_line(tmp_path: Path) -> None:
    setup, language_voice, path = setup_for(tmp_path)
    line_voice = FakeVoice()
    engines = Engines(stt=None, tts={"ru": language_voice},
                      line_tts={"support": ("ru", line_voice)})
    setup = VoiceSetup(setup.cfg, engines, path, ENV)
    async with console(tmp_path, voices=setup) as c, c.client() as client:
        headers = {CSRF_HEADER: await login(client, "root")}
        listed = (await client.get("/api/voices")).json()
        assert listed["lines"] == {"sales-en": {"language": "en", "voice": None},
                                   "support": {"language": "ru", "voice": None}}
        spoken = await client.post("/api/voices/speak", headers=headers,
                                   json={"language": "ru", "text": "Линия.", "line": "support"})
        assert spoken.status_code == 200, spoken.text
        assert (line_voice.said, language_voice.said) == (["Линия."], [])
        unknown = await client.post("/api/voices/speak", headers=headers,
                                    json={"language": "ru", "text": "x", "line": "nope"})
        assert unknown.status_code == 404 and line_voice.said == ["Линия."]

        before = path.read_text(encoding="utf-8")
        chosen = await client.put("/api/voices/choice", headers=headers, json={
            "language": "en", "line": "support", "engine": "espeak", "voice": "ru"})
        assert chosen.status_code == 200, chosen.text
        assert chosen.json() == {"language": "ru", "line": "support", "engine": "espeak",
                                 "voice": "ru", "restart_needed": True}
        written = load_config(path, env=ENV)
        voice = written.lines["support"].voice
        assert voice is not None and (voice.engine, voice.voice) == ("espeak", "ru")
        assert written.lines["support"].persona == "default"  # the line's other keys kept
        assert written.tts.voices == setup.cfg.tts.voices  # the languages' voices untouched
        pending = (await client.get("/api/voices")).json()["next_start"]
        assert pending == {"line:support": {"engine": "espeak", "voice": "ru"}}
        saved = path.read_text(encoding="utf-8")
        path.write_text(before, encoding="utf-8")  # put back by hand: nothing pending
        assert (await client.get("/api/voices")).json()["next_start"] == {}
        path.write_text("tts: [", encoding="utf-8")  # broken by hand: what runs is shown
        assert (await client.get("/api/voices")).json()["next_start"] == {}
        path.write_text(saved, encoding="utf-8")
        assert (tmp_path / "secretary.yaml.bak").read_text(encoding="utf-8") == before
        assert "# Optional per-line settings" in path.read_text(encoding="utf-8")

        after = path.read_text(encoding="utf-8")
        missing = await client.put("/api/voices/choice", headers=headers, json={
            "language": "ru", "line": "nope", "engine": "espeak", "voice": "ru"})
        assert missing.status_code == 422 and "lines.nope" in missing.text
        wrong = await client.put("/api/voices/choice", headers=headers, json={
            "language": "ru", "line": "sales-en", "engine": "telepathy", "voice": "x"})
        assert wrong.status_code == 422 and "lines.sales-en.voice.engine" in wrong.text
        assert path.read_text(encoding="utf-8") == after  # nothing written by a refusal
        audit = [a for a in await c.users.audit_log(10) if a["what"] == "voice_choice"]
        assert [a["details"] for a in audit] == [{"language": "ru", "line": "support",
                                                  "engine": "espeak", "voice": "ru"}]

        # back to the language's voice: the line's own removed, its other keys kept
        reset = await client.delete("/api/voices/choice", headers=headers,
                                    params={"line": "support"})
        assert reset.status_code == 200, reset.text
        assert reset.json()["voice"] is None and reset.json()["restart_needed"] is True
        written = load_config(path, env=ENV)
        assert written.lines["support"].voice is None
        assert written.lines["support"].persona == "default"
        assert (await client.get("/api/voices")).json()["next_start"] == {}  # as it runs
        nowhere = await client.delete("/api/voices/choice", headers=headers,
                                      params={"line": "nope"})
        assert nowhere.status_code == 422 and "lines.nope" in nowhere.text
        unsigned = await client.delete("/api/voices/choice", params={"line": "support"})
        assert unsigned.status_code == 403
        audit = [a for a in await c.users.audit_log(10) if a["what"] == "voice_choice"]
        assert audit[0]["details"] == {"language": "ru", "line": "support", "engine": None,
                                       "voice": None}
