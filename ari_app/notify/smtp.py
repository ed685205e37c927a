"""E-mail to the staff through an SMTP server.

stdlib smtplib in a worker thread rather than aiosmtplib: a message is sent a few times a
day, so a thread per send costs nothing, and it keeps the dependency list as it is. The
call path never waits for it (see Notifications.submit).
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from ari_app.notify.base import NotifyError, RetryPolicy
from ari_app.notify.message import StaffMessage, is_urgent, render_body, render_subject
from ari_app.notify.settings import SmtpConfig


class SmtpNotifier:
    """One e-mail per message to every address of `notify.smtp.to`."""

    def __init__(self, config: SmtpConfig, password: str | None = None) -> None:
        self.config = config
        self._password = password
        self.name = f"smtp:{config.host}:{config.port}"
        self.retry = RetryPolicy(attempts=config.attempts, initial_s=1.0, maximum_s=30.0)

    def build_email(self, message: StaffMessage) -> EmailMessage:
        cfg = self.config
        mail = EmailMessage()
        mail["Subject"] = render_subject(message)
        mail["From"] = cfg.sender
        mail["To"] = ", ".join(cfg.to)
        mail["Date"] = format_datetime(message.taken_at)
        mail["Message-ID"] = make_msgid(idstring=message.id, domain=cfg.sender.split("@", 1)[1])
        mail["X-Secretary-Message-Id"] = message.id
        if is_urgent(message):
            mail["X-Priority"] = "1"
            mail["Importance"] = "high"
        mail.set_content(render_body(message))
        mail["Content-Language"] = message.language  # after set_content, which drops Content-*
        return mail

    async def send(self, message: StaffMessage) -> None:
        mail = self.build_email(message)
        cfg = self.config
        try:
            await asyncio.to_thread(self._send_sync, mail)
        except smtplib.SMTPAuthenticationError as exc:
            raise NotifyError(
                f"{self.name}: login refused for {cfg.username!r} ({_reply(exc)}); check "
                f"notify.smtp.username and the variable {cfg.password_env}",
                retryable=False,
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(sorted(exc.recipients))
            raise NotifyError(
                f"{self.name}: recipients refused: {refused} (notify.smtp.to)", retryable=False
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise NotifyError(
                f"{self.name}: server answered {_reply(exc)}",
                retryable=400 <= exc.smtp_code < 500,  # 4xx: try again later
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise NotifyError(
                f"{self.name}: {exc}; check notify.smtp.starttls / notify.smtp.ssl",
                retryable=False,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, dropped
            reason = str(exc) or type(exc).__name__
            raise NotifyError(f"{self.name}: {reason}", retryable=True) from exc

    def _send_sync(self, mail: EmailMessage) -> None:
        cfg = self.config
        context = ssl.create_default_context()
        smtp = (
            smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_s, context=context)
            if cfg.ssl
            else smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
        )
        with smtp:
            if cfg.starttls:
                smtp.starttls(context=context)
            if cfg.username is not None:
                smtp.login(cfg.username, self._password or "")
            smtp.send_message(mail)


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = (
        exc.smtp_error.decode("utf-8", "replace")
        if isinstance(exc.smtp_error, bytes)
        else str(exc.smtp_error)
    )
    return f"{exc.smtp_code} {text}".strip()
