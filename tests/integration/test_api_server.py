"""The HTTP API with the real engines (Whisper base, RHVoice, Piper, espeak-ng), served by
uvicorn in its own process (`python -m ari_app.api.serve`) on a free port, used over HTTP.

Needs what tests/integration/test_engines.py needs; no Asterisk.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ari_app.config import load_config
from ari_app.media.resample import resample
from ari_app.mind.dialogue import Dialogue
from ari_app.mind.persona import Persona, load_persona
from testkit.local import write_config

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
READY_MARK = "secretary: API ready at"


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[str]
    lines: list[str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def frozen_testbed_clock() -> dt.datetime:
    """The testbed config's frozen_time: the server's calendar reads it too."""
    frozen = load_config(REPO / "config" / "testbed.yaml").frozen_time
    assert frozen is not None
    return frozen


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("api")
    config = write_config(directory)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ari_app.api.serve", "-c", str(config), "--port", str(port)],
        cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    lines: list[str] = []
    ready = threading.Event()

    def drain() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if READY_MARK in line:
                ready.set()

    threading.Thread(target=drain, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not ready.wait(0.1):
            assert proc.poll() is None, f"server exited {proc.returncode}:\n{''.join(lines)}"
            assert time.monotonic() < deadline, "".join(lines)
        while httpx.get(f"{url}/health").json()["status"] == "loading":
            assert time.monotonic() < deadline + 60, "".join(lines)
            time.sleep(0.2)
        yield Server(url, proc, lines)
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(30)
    assert rc == 0, f"server exited {rc} on SIGTERM:\n{''.join(lines)[-3000:]}"


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def persona() -> Persona:
    return load_persona(REPO / "config" / "personas" / "default.yaml")


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower().replace("ё", "е"))


def heard_enough(expected: str, heard: str, share: float = 0.6) -> bool:
    """At least `share` of the expected words (compared by their first 4 letters) heard."""
    want = [w[:4] for w in words(expected)]
    got = {w[:4] for w in words(heard)}
    return sum(w in got for w in want) >= share * len(want)


def pcm_of(wav_bytes: bytes) -> tuple[bytes, int]:
    with wave.open(io.BytesIO(wav_bytes)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        return w.readframes(w.getnframes()), w.getframerate()


def speak(argv: list[str], text: str) -> bytes:
    """A WAV from RHVoice or espeak-ng on stdout (streamed: placeholder sizes in the header)."""
    done = subprocess.run(argv, input=text.encode(), capture_output=True, check=True, timeout=60)
    assert done.stdout.startswith(b"RIFF")
    return done.stdout


def test_info_and_health(api: httpx.Client) -> None:
    info = api.get("/").json()
    assert len(info["endpoints"]) == 7 and info["languages"] == ["en", "ru"]
    health = api.get("/health")
    assert health.status_code == 200, health.text
    body = health.json()
    assert body["status"] == "ok" and body["engines_loaded"]
    assert body["stt"]["name"] == "whisper"
    assert body["tts"]["ru"]["name"].startswith("rhvoice:anna")
    assert body["tts"]["en"]["name"].startswith("piper:")
    assert body["database"]["ok"]


@pytest.mark.parametrize(
    ("language", "text", "voice"),
    [
        ("ru", "Здравствуйте! Компания Ромашка, чем могу помочь?", "rhvoice:anna"),
        ("en", "Hello, thank you for calling. How can I help you today?", "piper:"),
    ],
)
def test_tts_speaks_words_whisper_hears(
    api: httpx.Client, transcribe: Callable[[bytes, str], str], language: str, text: str,
    voice: str,
) -> None:  # fmt: skip
    response = api.post("/tts", json={"text": text, "language": language})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["x-voice"].startswith(voice)
    pcm, rate = pcm_of(response.content)
    assert 1.5 < len(pcm) / 2 / rate < 10
    heard = transcribe(resample(pcm, rate, 8000), language)
    assert heard_enough(text, heard), heard


def test_tts_fallback_voice_by_name(api: httpx.Client) -> None:
    response = api.post("/tts", json={"text": "Добрый день", "voice": "espeak:ru"})
    assert response.status_code == 200 and response.headers["x-voice"] == "espeak:ru"


@pytest.mark.parametrize(
    ("language", "argv", "text"),
    [
        ("ru", ["RHVoice-test", "-p", "aleksandr", "-o", "-"],
         "Здравствуйте! Подскажите, пожалуйста, какие у вас часы работы?"),
        ("en", ["espeak-ng", "-v", "en-us", "-s", "150", "--stdout"],
         "Hello! Could you tell me your opening hours, please?"),
    ],
)  # fmt: skip
def test_stt_transcribes_an_upload(
    api: httpx.Client, language: str, argv: list[str], text: str
) -> None:
    audio = speak(argv, text)
    response = api.post(
        "/stt", params={"language": language}, content=audio,
        headers={"content-type": "audio/wav"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["language"] == language and 2 < out["duration_s"] < 8
    assert heard_enough(text, out["text"], share=0.5), out["text"]
    form = api.post(
        "/stt", params={"language": language}, files={"file": ("turn.wav", audio, "audio/wav")}
    )
    assert form.json()["text"] == out["text"]


def test_bad_upload_is_refused(api: httpx.Client) -> None:
    response = api.post("/stt", content=b"not a wav", headers={"content-type": "audio/wav"})
    assert response.status_code == 400 and "WAV" in response.json()["detail"]


@pytest.mark.parametrize(
    ("language", "hours", "bye"),
    [
        ("ru", "Подскажите, пожалуйста, какие у вас часы работы?", "Спасибо, до свидания!"),
        ("en", "Could you tell me your opening hours, please?", "Thank you, goodbye!"),
    ],
)
def test_scripted_conversation(
    api: httpx.Client, persona: Persona, language: str, hours: str, bye: str
) -> None:
    ours = Dialogue(persona, language, now=frozen_testbed_clock)  # the same dialogue, here
    start = api.post("/chat", json={"language": language}).json()
    assert start["intent"] == "greeting" and start["reply"] == ours.greeting()
    cid = start["conversation_id"]
    answer = api.post("/chat", json={"text": hours, "conversation_id": cid}).json()
    assert answer["intent"] == "hours" and answer["reply"] == ours.reply(hours).text
    assert not answer["end_call"]
    end = api.post("/chat", json={"text": bye, "conversation_id": cid}).json()
    assert end["intent"] == "goodbye" and end["end_call"] is True
    assert api.post("/chat", json={"text": hours, "conversation_id": cid}).status_code == 409


@pytest.mark.parametrize(
    ("language", "question"),
    [("ru", "Можно у вас заказать пиццу с ананасами?"), ("en", "Can I order a pizza here?")],
)
def test_unanswerable_question(
    api: httpx.Client, persona: Persona, language: str, question: str
) -> None:
    out = api.post("/chat", json={"text": question, "language": language}).json()
    assert out["intent"] not in ("hours", "goodbye") and out["end_call"] is False
    ours = Dialogue(persona, language, now=frozen_testbed_clock)
    assert out["reply"] == ours.reply(question).text


def test_reset_conversation(api: httpx.Client) -> None:
    cid = api.post("/chat", json={}).json()["conversation_id"]
    reset = api.post("/reset_conversation", json={"conversation_id": cid})
    assert reset.status_code == 200 and reset.json() == {"conversation_id": cid, "reset": True}
    gone = api.post("/chat", json={"text": "алло", "conversation_id": cid})
    assert gone.status_code == 404


def test_process_call_round_trip(
    api: httpx.Client, transcribe: Callable[[bytes, str], str]
) -> None:
    question = speak(
        ["RHVoice-test", "-p", "aleksandr", "-o", "-"], "Скажите, пожалуйста, когда вы работаете?"
    )
    response = api.post("/process_call", content=question, headers={"content-type": "audio/wav"})
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["intent"] == "hours", out["transcript"]
    assert out["voice"].startswith("rhvoice:anna")
    pcm, rate = pcm_of(base64.b64decode(out["audio_base64"]))
    assert rate == out["sample_rate"] and out["reply_duration_s"] > 3
    assert heard_enough(out["reply"], transcribe(resample(pcm, rate, 8000), "ru"), share=0.5)
    bye = speak(["RHVoice-test", "-p", "aleksandr", "-o", "-"], "Спасибо, до свидания!")
    second = api.post(
        "/process_call", params={"conversation_id": out["conversation_id"]}, content=bye,
        headers={"content-type": "audio/wav"},
    ).json()  # fmt: skip
    assert second["end_call"] is True and second["intent"] == "goodbye"
