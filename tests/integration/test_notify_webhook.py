"""The webhook against a real local HTTP server: JSON body, HMAC signature, retries, and a
dead endpoint that must not raise into the call."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ari_app.notify.base import Notifications
from ari_app.notify.factory import build_notifications
from ari_app.notify.message import StaffMessage
from ari_app.notify.settings import NotifyConfig, WebhookConfig
from ari_app.notify.webhook import WebhookNotifier

pytestmark = pytest.mark.integration

SECRET = "webhook-test-secret"


class Receiver(ThreadingHTTPServer):
    """Answers POSTs with the next scripted status (200 when the script is used up)."""

    def __init__(self, statuses: list[int], delay_s: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.statuses = list(statuses)
        self.delay_s = delay_s
        self.requests: list[tuple[dict[str, str], bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/secretary"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((dict(self.headers.items()), body))
        time.sleep(self.server.delay_s)
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(receiver: Receiver) -> Iterator[Receiver]:
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve(Receiver([]))


def taken() -> StaffMessage:
    return StaffMessage(
        language="en", name="John Smith", callback_number="+1 555 0100",
        reason="delivery is late", urgency="normal", caller_id="+15550100", company="Romashka",
    )  # fmt: skip


def config(url: str, **kw: object) -> NotifyConfig:
    hook = {"url": url, "secret_env": "TEST_HOOK_SECRET", "timeout_s": 2, **kw}
    return NotifyConfig(webhook=WebhookConfig.model_validate(hook))


def verify(headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does with our signature."""
    ts = headers["X-Secretary-Timestamp"]
    mac = hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(ts)) < 300
    return fresh and hmac.compare_digest(headers["X-Secretary-Signature"], f"sha256={mac}")


async def test_signed_json_arrives(receiver: Receiver) -> None:
    notes = build_notifications(config(receiver.url), env={"TEST_HOOK_SECRET": SECRET})
    message = taken()
    assert list((await notes.notify(message)).values()) == [None]
    ((headers, body),) = receiver.requests
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Secretary-Event"] == "message_taken"
    assert verify(headers, body)
    assert not verify(headers, body.replace(b"John", b"Jane"))  # tampering shows
    data = json.loads(body)
    assert data["event"] == "message_taken" and data["id"] == message.id
    assert data["message"] == message.as_dict()
    assert "Reason for the call: delivery is late" in data["text"]
    assert data["subject"] == "Message from a caller: John Smith"


async def test_server_error_is_retried() -> None:
    for receiver in serve(Receiver([503, 500])):
        notes = build_notifications(
            config(receiver.url, retry_initial_s=0.05), env={"TEST_HOOK_SECRET": SECRET}
        )
        assert list((await notes.notify(taken())).values()) == [None]
        assert len(receiver.requests) == 3
        ids = {json.loads(body)["id"] for _, body in receiver.requests}
        assert len(ids) == 1  # the same message each time: receivers can drop duplicates
        assert all(verify(headers, body) for headers, body in receiver.requests)


async def test_client_error_is_final() -> None:
    for receiver in serve(Receiver([404])):
        notes = build_notifications(config(receiver.url), env={"TEST_HOOK_SECRET": SECRET})
        (error,) = (await notes.notify(taken())).values()
        assert error is not None and "HTTP 404" in error
        assert len(receiver.requests) == 1


async def test_slow_receiver_times_out() -> None:
    for receiver in serve(Receiver([], delay_s=1.0)):
        hook = WebhookConfig(url=receiver.url, timeout_s=0.3, attempts=1)
        (error,) = (await Notifications([WebhookNotifier(hook)]).notify(taken())).values()
        assert error is not None and "no answer within 0.3 s" in error


async def test_dead_webhook_never_reaches_the_call() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections are refused
    hook = WebhookConfig(url=f"http://127.0.0.1:{port}/x", attempts=3, retry_initial_s=0.05)
    notes = Notifications([WebhookNotifier(hook, b"k")])
    started = time.monotonic()
    task = notes.submit(taken())  # as a call would: in the background
    await asyncio.sleep(0)
    assert not task.done()  # the caller's side goes on meanwhile
    await notes.drain(timeout_s=10)
    (error,) = task.result().values()
    assert error is not None and "connect" in error.lower()
    assert time.monotonic() - started < 5
