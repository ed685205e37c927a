"""The testbed's health probe against servers that fail the way the wedged Asterisk did:
one that accepts connections and never answers, one whose HTTP answers but whose websocket
handshake never completes. Real sockets on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from testkit.testbed_health import keep_evidence, why_unhealthy


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose connections are accepted by the kernel and never answered."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


class _HalfAlive(BaseHTTPRequestHandler):
    """Answers ARI requests; a websocket upgrade hangs."""

    def do_GET(self) -> None:
        if self.path.startswith("/ari/events"):
            time.sleep(3)
            return
        body = b'{"system": {"version": "22"}}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def half_alive() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HalfAlive)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_port_that_never_answers_is_unhealthy(silent_port: int) -> None:
    why = why_unhealthy(f"http://127.0.0.1:{silent_port}", "u", "p", timeout_s=0.5)
    assert why is not None and why.startswith("ARI request") and "Timeout" in why


def test_a_websocket_handshake_that_never_completes_is_unhealthy(half_alive: int) -> None:
    why = why_unhealthy(f"http://127.0.0.1:{half_alive}", "u", "p", timeout_s=0.5)
    assert why is not None and why.startswith("ARI websocket handshake"), why


def test_nothing_listening_is_unhealthy() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        why = why_unhealthy(f"http://127.0.0.1:{port}", "u", "p", timeout_s=0.5)
    assert why is not None and "Connect" in why


def test_the_evidence_is_kept(tmp_path: Path) -> None:
    report = keep_evidence(None, ["echo", "asterisk -rx"], tmp_path / "wedges")
    text = report.read_text()
    assert report.parent == tmp_path / "wedges"
    assert "asterisk -rx core show taskprocessors" in text
    assert "gdb: not run" in text
