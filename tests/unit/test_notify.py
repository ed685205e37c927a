"""Staff notifications without a network: message text, retries, settings, webhook signing."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from ari_app.errors import ConfigError
from ari_app.mind.message import Message
from ari_app.notify.base import Notifications, NotifyError, RetryPolicy
from ari_app.notify.factory import build_notifications
from ari_app.notify.message import StaffMessage, render_body, render_subject
from ari_app.notify.settings import NotifyConfig, SmtpConfig, WebhookConfig
from ari_app.notify.smtp import SmtpNotifier
from ari_app.notify.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookNotifier, sign

TAKEN = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def message(language: str = "ru", **kw: object) -> StaffMessage:
    fields: dict[str, object] = {
        "name": "Иван Петров",
        "callback_number": "+79161234567",
        "reason": "счёт за октябрь",
        "urgency": "urgent",
        "caller_id": "+79160000000",
        "company": "Ромашка",
        "taken_at": TAKEN,
    }
    fields.update(kw)
    return StaffMessage(language=language, **fields)  # type: ignore[arg-type]


# --- the text ---------------------------------------------------------------------------


def test_russian_body_has_every_field() -> None:
    body = render_body(message())
    assert "Секретарь приняла сообщение для компании «Ромашка»." in body
    for line in (
        "Имя: Иван Петров",
        "Номер для обратного звонка: +79161234567",
        "Причина звонка: счёт за октябрь",
        "Срочность: срочно",
        "Номер звонившего (Caller ID): +79160000000",
        "Время: 2026-11-24 09:30 UTC",
    ):
        assert line in body.splitlines()
    assert render_subject(message()) == "[СРОЧНО] Сообщение от звонившего: Иван Петров"


def test_english_body_and_missing_fields() -> None:
    msg = message("en", name=None, reason=None, urgency="normal", company="Romashka")
    body = render_body(msg).splitlines()
    assert "Name: not given" in body
    assert "Reason for the call: not given" in body
    assert "Urgency: not urgent" in body
    assert "Call back on: +79161234567" in body
    assert render_subject(msg) == "Message from a caller: +79161234567"


def test_from_the_minds_message() -> None:
    src = Message("Ann", "555 0100", " delivery ", "urgent", None, "en")
    msg = StaffMessage.from_message(src, company="Romashka", call_id="c1")
    assert (msg.language, msg.name, msg.callback_number, msg.urgency) == (
        "en", "Ann", "555 0100", "urgent"
    )  # fmt: skip
    assert msg.reason == "delivery" and msg.caller_id is None and msg.call_id == "c1"
    data = msg.as_dict()
    assert data["id"] == msg.id and data["company"] == "Romashka"
    assert isinstance(data["taken_at"], str) and data["taken_at"].endswith("+00:00")
    assert data["confirmed"] is True and msg.stored()["confirmed"] is True


def test_every_column_a_message_fills_is_handed_over_by_stored() -> None:
    """The calls database's message columns that come from the message itself (not its
    call, times, delivery or handling) are exactly what `stored()` hands over, each with the
    message's own value."""
    from ari_app.storage.tables import messages

    kept_by_the_store = {"id", "call_id", "created_at", "notified", "handled_at", "handled_by"}
    columns = {c.name for c in messages.c} - kept_by_the_store
    src = Message("Ann", "555 0100", "delivery", "urgent", "+100", "en", confirmed=False)
    stored = StaffMessage.from_message(src).stored()
    assert set(stored) == columns
    assert stored == {"language": "en", "name": "Ann", "callback_number": "555 0100",
                      "reason": "delivery", "urgency": "urgent", "caller_id": "+100",
                      "confirmed": False}


def test_a_message_the_caller_did_not_confirm_says_so_everywhere() -> None:
    """Cut off during the read-back: the subject, the body, the webhook's and the
    database's fields all tell the staff to check it; a confirmed one says nothing."""
    src = Message("Анна", "89262004718", None, "normal", None, "ru", confirmed=False)
    msg = StaffMessage.from_message(src)
    assert render_subject(msg) == "Сообщение от звонившего: Анна (не подтверждено)"
    assert "не подтвердил" in render_body(msg)
    assert msg.as_dict()["confirmed"] is False and msg.stored()["confirmed"] is False
    english = StaffMessage.from_message(replace(src, language="en"))
    assert render_subject(english).endswith("(not confirmed)")
    assert "did not confirm" in render_body(english)
    confirmed = StaffMessage.from_message(replace(src, confirmed=True))
    assert "подтвер" not in render_subject(confirmed) + render_body(confirmed)


# --- delivery, retries, never raising -----------------------------------------------------


class FakeNotifier:
    def __init__(self, failures: list[Exception], attempts: int = 3) -> None:
        self.name = "fake"
        self.retry = RetryPolicy(attempts=attempts, initial_s=0.5, maximum_s=4.0)
        self.failures = list(failures)
        self.sent: list[StaffMessage] = []

    async def send(self, msg: StaffMessage) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(msg)


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def test_retryable_failures_are_retried_with_backoff() -> None:
    fake = FakeNotifier([NotifyError("down", retryable=True)] * 2)
    sleep = FakeSleep()
    result = await Notifications([fake], sleep=sleep).notify(message())
    assert result == {"fake": None}
    assert len(fake.sent) == 1
    assert len(sleep.delays) == 2
    assert 0.45 <= sleep.delays[0] <= 0.55 and 0.9 <= sleep.delays[1] <= 1.1


async def test_final_failure_is_reported_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    broken = FakeNotifier([NotifyError("refused", retryable=False)])
    flaky = FakeNotifier([NotifyError("busy", retryable=True)] * 5, attempts=2)
    flaky.name = "flaky"
    buggy = FakeNotifier([RuntimeError("adapter bug")])
    buggy.name = "buggy"
    fine = FakeNotifier([])
    fine.name = "fine"
    sleep = FakeSleep()
    with caplog.at_level(logging.WARNING):
        result = await Notifications([broken, flaky, buggy, fine], sleep=sleep).notify(message())
    assert result == {
        "fake": "refused",
        "flaky": "busy",
        "buggy": "unexpected RuntimeError: adapter bug",
        "fine": None,
    }
    assert len(sleep.delays) == 1  # only flaky was retried, once
    assert "NOT delivered" in caplog.text
    assert len(fine.sent) == 1


async def test_no_channel_logs_the_message(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert await Notifications().notify(message()) == {}
    assert "no notify channel" in caplog.text and "Иван Петров" in caplog.text


async def test_submit_runs_in_background_and_drain_waits() -> None:
    gate = asyncio.Event()

    class SlowNotifier(FakeNotifier):
        async def send(self, msg: StaffMessage) -> None:
            await gate.wait()
            await super().send(msg)

    slow = SlowNotifier([])
    notes = Notifications([slow])
    task = notes.submit(message())
    await asyncio.sleep(0)
    assert not task.done() and not slow.sent
    gate.set()
    await notes.drain(timeout_s=5)
    assert task.done() and len(slow.sent) == 1


async def test_drain_gives_up_on_a_hung_channel() -> None:
    class HungNotifier(FakeNotifier):
        async def send(self, msg: StaffMessage) -> None:
            await asyncio.Event().wait()

    notes = Notifications([HungNotifier([])])
    task = notes.submit(message())
    await notes.drain(timeout_s=0.05)
    assert task.cancelled()


# --- settings and the factory ---------------------------------------------------------------


def test_smtp_settings() -> None:
    cfg = SmtpConfig.model_validate(
        {"host": "mail", "from": "secretary@example.com", "to": ["office@example.com"]}
    )
    assert cfg.sender == "secretary@example.com" and cfg.port == 587 and cfg.starttls
    with pytest.raises(ValidationError, match="not both"):
        SmtpConfig.model_validate(
            {"host": "m", "from": "a@b.c", "to": ["d@e.f"], "ssl": True, "starttls": True}
        )
    with pytest.raises(ValidationError, match="e-mail address"):
        SmtpConfig.model_validate({"host": "m", "from": "nobody", "to": ["d@e.f"]})
    with pytest.raises(ValidationError, match="to"):
        SmtpConfig.model_validate({"host": "m", "from": "a@b.c", "to": []})
    with pytest.raises(ValidationError, match="Extra inputs"):
        NotifyConfig.model_validate({"sms": {}})


def test_missing_secret_names_the_key_and_variable() -> None:
    cfg = NotifyConfig.model_validate(
        {"webhook": {"url": "http://127.0.0.1:9/x", "secret_env": "HOOK_SECRET"}}
    )
    with pytest.raises(ConfigError, match=r"notify.webhook.secret_env: .*HOOK_SECRET"):
        build_notifications(cfg, env={})
    notes = build_notifications(cfg, env={"HOOK_SECRET": "s3cret"})
    assert notes.channels == ["webhook:127.0.0.1:9"]
    assert build_notifications(None, env={}).channels == []


def test_email_headers_and_body() -> None:
    cfg = SmtpConfig.model_validate(
        {"host": "mail", "from": "secretary@example.com", "to": ["a@example.com", "b@example.com"]}
    )
    mail = SmtpNotifier(cfg).build_email(message())
    assert mail["Subject"] == "[СРОЧНО] Сообщение от звонившего: Иван Петров"
    assert mail["To"] == "a@example.com, b@example.com"
    assert mail["X-Priority"] == "1" and mail["Content-Language"] == "ru"
    assert mail["Message-ID"].endswith("@example.com>")
    assert "Имя: Иван Петров" in mail.get_content()


# --- the webhook over httpx's mock transport ------------------------------------------------


def webhook(handler: httpx.MockTransport, secret: bytes | None = b"key") -> WebhookNotifier:
    cfg = WebhookConfig(url="https://crm.example.com/hook", timeout_s=1.0)
    return WebhookNotifier(cfg, secret, transport=handler)


async def test_webhook_body_and_signature() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    await webhook(httpx.MockTransport(handle)).send(message())
    (request,) = seen
    body = request.content
    data = json.loads(body)
    assert data["event"] == "message_taken"
    assert data["message"]["name"] == "Иван Петров" and data["message"]["urgency"] == "urgent"
    assert "Причина звонка: счёт за октябрь" in data["text"]
    ts = request.headers[TIMESTAMP_HEADER]
    expected = hmac.new(b"key", ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert request.headers[SIGNATURE_HEADER] == f"sha256={expected}"
    assert sign(b"other", ts, body) != request.headers[SIGNATURE_HEADER]


async def test_webhook_without_secret_is_unsigned() -> None:
    seen: list[httpx.Request] = []
    hook = webhook(httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200)), None)
    await hook.send(message())
    assert SIGNATURE_HEADER not in seen[0].headers


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (429, True), (404, False), (401, False)]
)
async def test_webhook_status_decides_retry(status: int, retryable: bool) -> None:
    hook = webhook(httpx.MockTransport(lambda r: httpx.Response(status, text="nope")))
    with pytest.raises(NotifyError, match=f"HTTP {status}: nope") as err:
        await hook.send(message())
    assert err.value.retryable is retryable


async def test_webhook_timeout_is_retryable() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(NotifyError, match="no answer within 1 s") as err:
        await webhook(httpx.MockTransport(hang)).send(message())
    assert err.value.retryable
