"""E-mail to the staff through a real SMTP server (aiosmtpd on a free local port)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from ari_app.notify.base import Notifications
from ari_app.notify.factory import build_notifications
from ari_app.notify.message import StaffMessage
from ari_app.notify.settings import NotifyConfig, SmtpConfig
from ari_app.notify.smtp import SmtpNotifier

pytestmark = pytest.mark.integration

USER, PASSWORD = "secretary", "correct horse"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """aiosmtpd handler: keeps every envelope it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        ok = data.login == USER.encode() and data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(
        box, hostname="127.0.0.1", port=port,
        authenticator=box.authenticate, auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],  # PLAIN only: smtplib tries every offered one
    )  # fmt: skip
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def smtp_config(port: int, **kw: Any) -> SmtpConfig:
    data: dict[str, Any] = {
        "host": "127.0.0.1", "port": port, "starttls": False, "timeout_s": 5,
        "from": "secretary@romashka.example",
        "to": ["office@romashka.example", "boss@romashka.example"],
    }  # fmt: skip
    data.update(kw)
    return SmtpConfig.model_validate(data)


def taken(language: str = "ru") -> StaffMessage:
    return StaffMessage(
        language=language, name="Мария Иванова", callback_number="+7 916 123-45-67",
        reason="перенести встречу на пятницу", urgency="urgent", caller_id="+79160000001",
        company="Ромашка", call_id="call-42", taken_at=datetime(2026, 11, 24, 7, 5, tzinfo=UTC),
    )  # fmt: skip


def received(box: Mailbox) -> EmailMessage:
    (envelope,) = box.envelopes
    mail = message_from_bytes(envelope.content, policy=default)
    assert isinstance(mail, EmailMessage)
    return mail


async def test_mail_arrives_with_every_field(smtp_server: tuple[Mailbox, int]) -> None:
    box, port = smtp_server
    result = await Notifications([SmtpNotifier(smtp_config(port))]).notify(taken())
    assert result == {f"smtp:127.0.0.1:{port}": None}
    (envelope,) = box.envelopes
    assert envelope.mail_from == "secretary@romashka.example"
    assert envelope.rcpt_tos == ["office@romashka.example", "boss@romashka.example"]
    mail = received(box)
    assert mail["Subject"] == "[СРОЧНО] Сообщение от звонившего: Мария Иванова"
    assert mail["From"] == "secretary@romashka.example"
    assert mail["To"] == "office@romashka.example, boss@romashka.example"
    assert mail["Content-Language"] == "ru" and mail["X-Priority"] == "1"
    assert mail["Date"].datetime == datetime(2026, 11, 24, 7, 5, tzinfo=UTC)
    body = mail.get_content()
    for line in (
        "Секретарь приняла сообщение для компании «Ромашка».",
        "Имя: Мария Иванова",
        "Номер для обратного звонка: +7 916 123-45-67",
        "Причина звонка: перенести встречу на пятницу",
        "Срочность: срочно",
        "Номер звонившего (Caller ID): +79160000001",
        "Время: 2026-11-24 07:05 UTC",
        "Разговор: call-42",
    ):
        assert line in body.splitlines(), body
    assert box.logins == []  # no username configured: no AUTH


async def test_login_from_the_environment(smtp_server: tuple[Mailbox, int]) -> None:
    box, port = smtp_server
    cfg = NotifyConfig(smtp=smtp_config(port, username=USER, password_env="TEST_SMTP_PASSWORD"))
    notes = build_notifications(cfg, env={"TEST_SMTP_PASSWORD": PASSWORD})
    assert list((await notes.notify(taken("en"))).values()) == [None]
    assert box.logins == [(USER.encode(), PASSWORD.encode())]
    mail = received(box)
    assert mail["Subject"] == "[URGENT] Message from a caller: Мария Иванова"
    assert "Reason for the call: перенести встречу на пятницу" in mail.get_content()


async def test_wrong_password_is_reported_once(smtp_server: tuple[Mailbox, int]) -> None:
    box, port = smtp_server
    notifier = SmtpNotifier(smtp_config(port, username=USER, password_env="X"), "wrong")
    (error,) = (await Notifications([notifier]).notify(taken())).values()
    assert error is not None and "login refused for 'secretary'" in error and "535" in error
    assert len(box.logins) == 1  # a refused login is not retried
    assert box.envelopes == []


async def test_dead_server_is_reported_not_raised() -> None:
    port = free_port()  # nothing listens there
    notifier = SmtpNotifier(smtp_config(port, attempts=2))
    (error,) = (await Notifications([notifier]).notify(taken())).values()
    assert error is not None and "refused" in error.lower()
