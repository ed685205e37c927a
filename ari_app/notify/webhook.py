"""A JSON POST to the staff's system (CRM, chat bot) for each taken message.

Body: {"event": "message_taken", "id", "subject", "text", "message": {...every field...}}
(UTF-8 JSON). Headers: X-Secretary-Event, X-Secretary-Timestamp (unix seconds) and, when
`notify.webhook.secret_env` is set, X-Secretary-Signature: "sha256=" + hex HMAC-SHA256 of
"<timestamp>.<raw body>" under the secret, so a receiver can check origin and freshness.
Retried on connection errors, timeouts, 408, 429 and 5xx; other answers are final.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlsplit

import httpx

from ari_app import __version__
from ari_app.notify.base import NotifyError, RetryPolicy
from ari_app.notify.message import StaffMessage, render_body, render_subject
from ari_app.notify.settings import WebhookConfig

SIGNATURE_HEADER = "X-Secretary-Signature"
TIMESTAMP_HEADER = "X-Secretary-Timestamp"
_RETRY_STATUS = {408, 429}


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def payload(message: StaffMessage) -> bytes:
    data = {
        "event": "message_taken",
        "id": message.id,
        "subject": render_subject(message),
        "text": render_body(message),
        "message": message.as_dict(),
    }
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


class WebhookNotifier:
    def __init__(
        self,
        config: WebhookConfig,
        secret: bytes | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self._secret = secret
        self._transport = transport
        self.name = f"webhook:{urlsplit(config.url).netloc}"
        self.retry = RetryPolicy(
            attempts=config.attempts, initial_s=config.retry_initial_s, maximum_s=30.0
        )

    def headers(self, body: bytes, timestamp: str) -> dict[str, str]:
        out = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"ai-secretary/{__version__}",
            "X-Secretary-Event": "message_taken",
            TIMESTAMP_HEADER: timestamp,
        }
        if self._secret is not None:
            out[SIGNATURE_HEADER] = sign(self._secret, timestamp, body)
        return out

    async def send(self, message: StaffMessage) -> None:
        url = self.config.url
        body = payload(message)
        headers = self.headers(body, str(int(time.time())))
        try:
            async with httpx.AsyncClient(
                timeout=self.config.timeout_s, transport=self._transport
            ) as client:
                response = await client.post(url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise NotifyError(
                f"{url}: no answer within {self.config.timeout_s:g} s (notify.webhook.timeout_s)",
                retryable=True,
            ) from exc
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise NotifyError(f"{url}: {reason}", retryable=True) from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        detail = response.text[:200].strip()
        raise NotifyError(
            f"{url} answered HTTP {status}" + (f": {detail}" if detail else ""),
            retryable=status >= 500 or status in _RETRY_STATUS,
        )
