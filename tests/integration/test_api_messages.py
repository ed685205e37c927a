"""A message taken over POST /chat reaches the staff: a real uvicorn server (in a thread)
running the real dialogue, notifying a real SMTP server (aiosmtpd) and a real webhook
receiver; and a dead webhook does not slow the conversation down."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from test_notify_smtp import Mailbox, free_port
from test_notify_webhook import Receiver, serve

from ari_app.api.app import create_app
from ari_app.config import parse_config
from ari_app.engines import Engines
from ari_app.mind.persona import load_persona
from ari_app.notify.factory import build_notifications
from ari_app.notify.settings import NotifyConfig

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SECRET = "messages-test-secret"

# The caller leaves a message in Russian (the persona's take-a-message form).
CALLER_RU = [
    "Можно у вас заказать пиццу с ананасами?",
    "Да",
    "Меня зовут Иван Петров",
    "восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь",
    "да",
    "Хочу заказать пиццу на вечер",
    "срочно",
    "да",
]


def run_api(notify: NotifyConfig, tmp: Path) -> Iterator[str]:
    """The API (no speech engines: text only) on a free port, in a thread of its own."""
    cfg = parse_config(
        {"ari": {"password": "unused"}, "storage": {"database": str(tmp / "calls.sqlite3")},
         # Saturday night: nobody can be put through, so the unknown question is offered a
         # message only (in working hours the offer is "put through or a message?")
         "frozen_time": "2026-11-28T22:00:00+03:00"},
        "test",
    )
    persona = load_persona(REPO / "config" / "personas" / "default.yaml")
    notes = build_notifications(notify, env={"TEST_HOOK_SECRET": SECRET})
    app = create_app(cfg, Engines(stt=None, tts={}), {"default": persona}, notifications=notes)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def leave_message(url: str) -> dict[str, Any]:
    """The Russian conversation; returns the reply that carries the message."""
    with httpx.Client(base_url=url, timeout=10) as api:
        cid = api.post("/chat", json={}).json()["conversation_id"]
        for line in CALLER_RU:
            started = time.monotonic()
            out = api.post("/chat", json={"text": line, "conversation_id": cid}).json()
            assert time.monotonic() - started < 2, "a turn waited for the notification"
        return dict(out)


def wait_for(condition: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not delivered in time"
        time.sleep(0.05)


def test_message_reaches_mail_and_webhook(tmp_path: Path) -> None:
    box = Mailbox()
    smtp_port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        for receiver in serve(Receiver([])):
            notify = NotifyConfig.model_validate({
                "smtp": {"host": "127.0.0.1", "port": smtp_port, "starttls": False,
                         "from": "secretary@romashka.example", "to": ["office@romashka.example"]},
                "webhook": {"url": receiver.url, "secret_env": "TEST_HOOK_SECRET"},
            })  # fmt: skip
            for url in run_api(notify, tmp_path):
                out = leave_message(url)
                wait_for(lambda: box.envelopes and receiver.requests)  # noqa: B023
    finally:
        controller.stop()
    message = out["message"]
    assert out["intent"] == "message_taken" and not out["end_call"]
    assert message["name"] == "Иван Петров" and message["urgency"] == "urgent"
    assert message["callback_number"] == "89161234567"
    assert message["reason"] == "Хочу заказать пиццу на вечер"
    ((headers, body),) = receiver.requests
    hook = json.loads(body)
    assert headers["X-Secretary-Signature"].startswith("sha256=")
    assert hook["message"]["call_id"] == f"api:{out['conversation_id']}"
    assert {k: hook["message"][k] for k in message} == message
    assert hook["message"]["company"] == "Ромашка"
    (envelope,) = box.envelopes
    mail = message_from_bytes(envelope.content, policy=default)
    assert mail["Subject"] == "[СРОЧНО] Сообщение от звонившего: Иван Петров"
    text = mail.get_content()
    assert "Номер для обратного звонка: 89161234567" in text
    assert "Причина звонка: Хочу заказать пиццу на вечер" in text


def test_dead_webhook_does_not_hold_the_conversation(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    notify = NotifyConfig.model_validate(
        {"webhook": {"url": dead, "attempts": 4, "retry_initial_s": 1.0}}
    )
    for url in run_api(notify, tmp_path):
        out = leave_message(url)  # each turn within 2 s although delivery retries for ~7 s
        assert out["message"]["name"] == "Иван Петров"
        with httpx.Client(base_url=url, timeout=10) as api:
            again = api.post("/chat", json={"text": "Когда вы работаете?"})
            assert again.status_code == 200
