"""The HTTP API's routing and validation, on FakeEngines (no models): every endpoint, its
errors, engine loading states and taken messages."""

from __future__ import annotations

import asyncio
import base64
import io
import wave
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ari_app.api import routes_talk
from ari_app.api.app import create_app
from ari_app.api.settings import ApiConfig
from ari_app.config import Config, parse_config
from ari_app.mind.dialogue import Dialogue
from ari_app.mind.message import Message
from ari_app.mind.mind import Reply
from ari_app.mind.persona import Persona, load_persona
from ari_app.mind.staff import TransferRequest
from ari_app.notify.base import Notifications, RetryPolicy
from ari_app.notify.message import StaffMessage
from ari_app.storage import CallStore
from ari_app.stt.base import Transcript
from ari_app.tts.factory import FallbackTts

PERSONA = Path(__file__).resolve().parents[2] / "config" / "personas" / "default.yaml"
HOURS_RU = "Когда вы работаете?"


class FakeStt:
    """Hears `text`; keeps what it was given."""

    name = "fake-stt"
    sample_rate = 16000

    def __init__(self) -> None:
        self.text = HOURS_RU
        self.heard: list[tuple[int, str]] = []  # (bytes of PCM, language)
        self.gate: asyncio.Event | None = None  # load() waits for it when set
        self.fail: str | None = None

    async def load(self) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError(self.fail)

    async def transcribe(
        self, pcm: bytes, language: str, *, prompt: str | None = None
    ) -> Transcript:
        self.heard.append((len(pcm), language))
        return Transcript(self.text, language, len(pcm) / 2 / self.sample_rate, 0.01)


class FakeTts:
    """10 ms of a constant sample per character of text, at 8 kHz."""

    sample_rate = 8000

    def __init__(self, name: str, fail: str | None = None) -> None:
        self.name = name
        self.fail = fail
        self.spoken: list[str] = []

    async def load(self) -> None:
        if self.fail:
            raise RuntimeError(self.fail)

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        if self.fail:
            raise RuntimeError(self.fail)
        self.spoken.append(text)
        for char in text:
            if char.isalnum():
                yield b"\x00\x10" * 80


@dataclass
class FakeEngines:
    stt: FakeStt
    tts: dict[str, Any]
    streaming: None = None


def fake_engines(ru_fail: str | None = None) -> FakeEngines:
    ru = FallbackTts([FakeTts("fake:anna", fail=ru_fail), FakeTts("fake:ru")])
    return FakeEngines(stt=FakeStt(), tts={"ru": ru, "en": FakeTts("fake:joe")})


def config(tmp_path: Path) -> Config:
    return parse_config(
        {"ari": {"password": "x"}, "storage": {"database": str(tmp_path / "calls.sqlite3")}},
        "test",
    )


@pytest.fixture(scope="module")
def persona() -> Persona:
    return load_persona(PERSONA)


@pytest.fixture
def engines() -> FakeEngines:
    return fake_engines()


@pytest.fixture
def client(tmp_path: Path, engines: FakeEngines, persona: Persona) -> Iterator[TestClient]:
    app = create_app(config(tmp_path), engines, {"default": persona})
    with TestClient(app) as c:
        yield c


def wav(seconds: float = 1.0, rate: int = 8000, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x01" * int(seconds * rate) * channels)
    return buf.getvalue()


def raw(data: bytes) -> dict[str, Any]:
    return {"content": data, "headers": {"content-type": "audio/wav"}}


# --- GET / and the OpenAPI schema --------------------------------------------------------------


def test_info_lists_every_endpoint(client: TestClient) -> None:
    info = client.get("/").json()
    assert info["name"] == "ai-secretary" and info["languages"] == ["en", "ru"]
    routes = {(e["method"], e["path"]) for e in info["endpoints"]}
    assert routes == {
        ("GET", "/"), ("GET", "/health"), ("POST", "/chat"), ("POST", "/tts"),
        ("POST", "/stt"), ("POST", "/process_call"), ("POST", "/reset_conversation"),
    }  # fmt: skip


def test_openapi_describes_bodies_and_answers(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert set(paths["/stt"]["post"]["requestBody"]["content"]) == {
        "audio/wav", "multipart/form-data"
    }  # fmt: skip
    assert "audio/wav" in paths["/tts"]["post"]["responses"]["200"]["content"]
    chat = paths["/chat"]["post"]
    assert chat["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("ChatIn")
    assert {"400", "404", "409", "422", "503"} <= set(chat["responses"])
    schemas = spec["components"]["schemas"]
    assert {"ChatOut", "ProcessCallOut", "SttOut", "HealthOut", "MessageOut"} <= set(schemas)
    assert schemas["ChatIn"]["properties"]["text"]["maxLength"] == 1000


# --- /chat ----------------------------------------------------------------------------------


def test_conversation_greeting_hours_goodbye(client: TestClient, persona: Persona) -> None:
    expected = Dialogue(persona, "ru")
    first = client.post("/chat", json={}).json()
    assert first["reply"] == expected.greeting() and first["intent"] == "greeting"
    cid = first["conversation_id"]
    assert (first["language"], first["persona"], first["end_call"]) == ("ru", "default", False)
    hours = client.post("/chat", json={"text": HOURS_RU, "conversation_id": cid}).json()
    assert hours["intent"] == "hours" and hours["reply"] == expected.reply(HOURS_RU).text
    assert hours["conversation_id"] == cid and not hours["end_call"]
    bye = client.post("/chat", json={"text": "До свидания", "conversation_id": cid}).json()
    assert bye["intent"] == "goodbye" and bye["end_call"] is True
    after = client.post("/chat", json={"text": "алло", "conversation_id": cid})
    assert after.status_code == 409 and "ended" in after.json()["detail"]


def test_english_conversation_starts_with_a_question(client: TestClient) -> None:
    out = client.post("/chat", json={"text": "When are you open?", "language": "en"}).json()
    assert out["intent"] == "hours" and out["language"] == "en"
    assert "Monday" in out["reply"]


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"language": "de"}, 400, "no language 'de'"),
        ({"persona": "nobody"}, 400, "unknown persona 'nobody'"),
        ({"persona": "../etc"}, 422, "body.persona"),
        ({"text": "я" * 1001}, 422, "body.text: String should have at most 1000 characters"),
        ({"text": "hi", "conversation_id": "deadbeef"}, 404, "unknown or expired"),
        ({"text": "hi", "extra": 1}, 422, "body.extra"),
    ],
)
def test_chat_errors_say_what_is_wrong(
    client: TestClient, body: dict[str, Any], status: int, words: str
) -> None:
    response = client.post("/chat", json=body)
    assert response.status_code == status
    assert words in response.json()["detail"]


def test_language_cannot_change_mid_conversation(client: TestClient) -> None:
    cid = client.post("/chat", json={}).json()["conversation_id"]
    response = client.post("/chat", json={"text": "hi", "conversation_id": cid, "language": "en"})
    assert response.status_code == 409 and "'ru'" in response.json()["detail"]


def test_reset_and_expiry(tmp_path: Path, engines: FakeEngines, persona: Persona) -> None:
    now = [0.0]
    app = create_app(
        config(tmp_path), engines, {"default": persona},
        settings=ApiConfig(conversation_ttl_s=60), clock=lambda: now[0],
    )  # fmt: skip
    with TestClient(app) as client:
        a = client.post("/chat", json={}).json()["conversation_id"]
        b = client.post("/chat", json={}).json()["conversation_id"]
        assert client.post("/reset_conversation", json={"conversation_id": a}).json() == {
            "conversation_id": a, "reset": True
        }  # fmt: skip
        assert client.post("/chat", json={"text": "x", "conversation_id": a}).status_code == 404
        again = client.post("/reset_conversation", json={"conversation_id": a})
        assert again.status_code == 404
        now[0] += 61
        expired = client.post("/chat", json={"text": "x", "conversation_id": b})
        assert expired.status_code == 404 and "expired" in expired.json()["detail"]


# --- taken messages go to the staff ----------------------------------------------------------


class FakeMessageDialogue(Dialogue):
    """A dialogue that takes a message on "message" and transfers on "transfer"."""

    def reply(self, caller_text: str) -> Reply:
        if caller_text == "message":
            msg = Message("Иван", "+79161234567", "счёт", "urgent", None, self.language)
            return Reply("Передам.", "take_message", message=msg)
        if caller_text == "transfer":
            request = TransferRequest("200", "blind", None, None, "")
            return Reply("Соединяю.", "transfer", transfer=request)
        return super().reply(caller_text)


class FakeNotifier:
    name = "fake"
    retry = RetryPolicy(attempts=1)

    def __init__(self) -> None:
        self.sent: list[StaffMessage] = []

    async def send(self, message: StaffMessage) -> None:
        self.sent.append(message)


def test_taken_message_is_returned_and_sent(
    tmp_path: Path, engines: FakeEngines, persona: Persona, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes_talk, "Dialogue", FakeMessageDialogue)
    notifier = FakeNotifier()
    app = create_app(
        config(tmp_path), engines, {"default": persona}, notifications=Notifications([notifier])
    )
    with TestClient(app) as client:
        out = client.post("/chat", json={"text": "message"}).json()
        transfer = client.post("/chat", json={"text": "transfer"}).json()
    assert out["message"] == {
        "name": "Иван", "callback_number": "+79161234567", "reason": "счёт",
        "urgency": "urgent", "caller_id": None, "recipient": None, "language": "ru",
        "confirmed": True,
    }  # fmt: skip
    assert transfer["transfer"] == "200" and transfer["message"] is None
    (sent,) = notifier.sent  # delivered by the time the app shut down
    assert sent.name == "Иван" and sent.company == persona.company["ru"]
    assert sent.call_id == f"api:{out['conversation_id']}"
    # stored in the calls database, as on calls (test_api_chat_mind.py: through a model)

    async def stored() -> list[dict[str, Any]]:
        async with CallStore(tmp_path / "calls.sqlite3") as store:
            return await store.messages()

    (row,) = asyncio.run(stored())
    assert (row["name"], row["reason"], row["notified"]) == ("Иван", "счёт", {"fake": "ok"})


# --- /tts -----------------------------------------------------------------------------------


def read_wav(data: bytes) -> tuple[int, int, bytes]:
    with wave.open(io.BytesIO(data)) as w:
        return w.getframerate(), w.getnchannels(), w.readframes(w.getnframes())


def test_tts_returns_a_wav(client: TestClient, engines: FakeEngines) -> None:
    response = client.post("/tts", json={"text": "Добрый день"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["x-voice"] == "fake:anna"
    rate, channels, pcm = read_wav(response.content)
    assert (rate, channels, len(pcm)) == (8000, 1, 10 * 160)  # 10 letters, 10 ms each
    assert float(response.headers["x-duration-s"]) == pytest.approx(0.1)


def test_tts_voice_choice_and_errors(client: TestClient) -> None:
    chosen = client.post("/tts", json={"text": "да", "voice": "ru"})
    assert chosen.status_code == 200 and chosen.headers["x-voice"] == "fake:ru"
    english = client.post("/tts", json={"text": "yes", "language": "en"})
    assert english.headers["x-voice"] == "fake:joe"
    unknown = client.post("/tts", json={"text": "да", "voice": "irina"})
    assert unknown.status_code == 400
    assert unknown.json()["detail"] == (
        "unknown voice 'irina' for 'ru' (configured: fake:anna, fake:ru)"
    )
    lang = client.post("/tts", json={"text": "ja", "language": "de"})
    assert lang.status_code == 400 and "configured: en, ru" in lang.json()["detail"]
    assert client.post("/tts", json={"text": ""}).status_code == 422
    silent = client.post("/tts", json={"text": "?!"})
    assert silent.status_code == 422 and "no speech" in silent.json()["detail"]


def test_tts_falls_back_when_the_voice_failed(tmp_path: Path, persona: Persona) -> None:
    app = create_app(config(tmp_path), fake_engines(ru_fail="no anna"), {"default": persona})
    with TestClient(app) as client:
        response = client.post("/tts", json={"text": "да"})
        assert response.status_code == 200 and response.headers["x-voice"] == "fake:ru"
        direct = client.post("/tts", json={"text": "да", "voice": "anna"})
        assert direct.status_code == 503 and "no anna" in direct.json()["detail"]


# --- /stt -----------------------------------------------------------------------------------


def test_stt_raw_and_multipart(client: TestClient, engines: FakeEngines) -> None:
    response = client.post("/stt", **raw(wav(1.0, rate=8000)))
    assert response.status_code == 200
    assert response.json() == {
        "text": HOURS_RU, "language": "ru", "duration_s": 1.0, "elapsed_s": 0.01
    }  # fmt: skip
    assert engines.stt.heard == [(32000, "ru")]  # resampled to the engine's 16 kHz
    form = client.post(
        "/stt?language=en", files={"file": ("turn.wav", wav(0.5, rate=16000), "audio/wav")}
    )
    assert form.status_code == 200 and form.json()["language"] == "en"
    assert engines.stt.heard[-1] == (16000, "en")


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        (raw(b"RIFF junk"), 400, "not a usable WAV"),
        (raw(wav(channels=2)), 400, "channels=2"),
        (raw(b""), 400, "empty"),
        ({"content": wav(), "headers": {"content-type": "text/plain"}}, 415, "audio/wav"),
        ({"files": {"audio": ("a.wav", wav(), "audio/wav")}}, 400, "field 'file'"),
        ({**raw(wav()), "params": {"language": "fr"}}, 400, "unknown language 'fr'"),
        (raw(wav(2.0)), 413, "api.max_audio_s"),
    ],
)
def test_stt_errors_say_what_is_wrong(
    tmp_path: Path, persona: Persona, kwargs: dict[str, Any], status: int, words: str
) -> None:
    settings = ApiConfig(max_audio_s=1.5)
    app = create_app(config(tmp_path), fake_engines(), {"default": persona}, settings=settings)
    with TestClient(app) as client:
        response = client.post("/stt", **kwargs)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]


# --- engines loading or failed --------------------------------------------------------------


def test_503_while_loading_but_chat_works(tmp_path: Path, persona: Persona) -> None:
    engines = fake_engines()
    engines.stt.gate = asyncio.Event()  # never set: STT stays loading
    app = create_app(config(tmp_path), engines, {"default": persona})
    with TestClient(app) as client:
        response = client.post("/stt", **raw(wav()))
        assert response.status_code == 503 and "still loading" in response.json()["detail"]
        health = client.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "loading"
        assert client.post("/chat", json={}).status_code == 200


def test_failed_engine_shows_in_health_and_answers(tmp_path: Path, persona: Persona) -> None:
    engines = fake_engines()
    engines.stt.fail = "model missing; run scripts/setup-models"
    app = create_app(config(tmp_path), engines, {"default": persona})
    with TestClient(app) as client:
        health = client.get("/health")
        process = client.post("/process_call", **raw(wav()))
    assert health.status_code == 503
    body = health.json()
    assert body["status"] == "degraded" and body["engines_loaded"] is False
    assert body["stt"] == {
        "name": "fake-stt", "loaded": False, "error": "model missing; run scripts/setup-models"
    }  # fmt: skip
    assert body["tts"]["ru"]["loaded"] is True
    assert process.status_code == 503 and "setup-models" in process.json()["detail"]


def test_health_ok_and_database_problems(
    client: TestClient, tmp_path: Path, engines: FakeEngines, persona: Persona
) -> None:
    ok = client.get("/health")
    assert ok.status_code == 200
    body = ok.json()
    assert body["status"] == "ok" and body["persona_ok"] and body["database"]["ok"]
    assert body["personas"] == {"default": ["en", "ru"]}
    # (the app holds its database open from the start: a broken one is broken before it)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "calls.sqlite3").write_bytes(b"this is not a database" * 100)
    with TestClient(create_app(config(broken), engines, {"default": persona})) as other:
        bad = other.get("/health")
        assert other.post("/chat", json={}).status_code == 200  # the chat goes on
    assert bad.status_code == 503 and bad.json()["status"] == "degraded"
    assert "cannot read" in bad.json()["database"]["detail"]


# --- /process_call ----------------------------------------------------------------------------


def test_process_call_turns(client: TestClient, engines: FakeEngines, persona: Persona) -> None:
    first = client.post("/process_call", **raw(wav(1.0)))
    assert first.status_code == 200, first.text
    out = first.json()
    assert out["transcript"] == HOURS_RU and out["intent"] == "hours"
    assert out["reply"] == Dialogue(persona, "ru").reply(HOURS_RU).text
    rate, _, pcm = read_wav(base64.b64decode(out["audio_base64"]))
    assert rate == out["sample_rate"] == 8000
    assert out["reply_duration_s"] == pytest.approx(len(pcm) / 2 / rate, abs=0.001)
    assert out["voice"] == "fake:anna" and out["input_duration_s"] == 1.0
    assert set(out["timings"]) == {"stt_s", "dialogue_s", "tts_s"}
    engines.stt.text = "до свидания"
    cid = out["conversation_id"]
    second = client.post("/process_call", params={"conversation_id": cid}, **raw(wav()))
    assert second.json()["end_call"] is True and second.json()["conversation_id"] == cid
    third = client.post("/process_call", params={"conversation_id": cid}, **raw(wav()))
    assert third.status_code == 409


def test_process_call_checks_before_listening(client: TestClient, engines: FakeEngines) -> None:
    response = client.post("/process_call", params={"language": "fr"}, **raw(wav()))
    assert response.status_code == 400
    assert engines.stt.heard == []
