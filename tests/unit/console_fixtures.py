"""Shared by the console tests: a console app on a real SQLite file, a clock moved by hand,
and a cheap argon2 hasher (the real parameters only cost time here)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from argon2 import PasswordHasher

from ari_app.console.chat_api import ChatSetup
from ari_app.console.live import LiveBus
from ari_app.console.llm_settings import LlmSettings
from ari_app.console.server import console_app
from ari_app.console.users import UserStore
from ari_app.console.voices_api import VoiceSetup
from ari_app.doctor.check import Check
from ari_app.metrics import Metrics
from ari_app.mind.persona_file import PersonaFiles
from ari_app.storage import CallStore

REPO = Path(__file__).resolve().parents[2]
PASSWORDS = {"root": "admin-pass", "rita": "recept-pass"}


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Console:
    store: CallStore
    users: UserStore
    clock: Clock
    app: object
    live: LiveBus
    personas: PersonaFiles
    metrics: Metrics

    def client(self, address: str = "10.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))  # type: ignore[arg-type]
        return httpx.AsyncClient(transport=transport, base_url="http://console.test")


async def fake_health_checks() -> list[Check]:
    """Stands in for secretary doctor's checks (which need Asterisk): one of each status."""
    return [Check("Asterisk ARI reachable", "ok", "http://127.0.0.1:8088, Asterisk 22"),
            Check("trunk twilio registered", "fail", "Rejected", "check the credentials"),
            Check("PBX checks (AMI)", "warn", "skipped: no ami: section", "add ami:")]


@asynccontextmanager
async def console(tmp_path: Path, settings: LlmSettings | None = None,
                  voices: VoiceSetup | None = None, chat: ChatSetup | None = None
                  ) -> AsyncIterator[Console]:
    clock = Clock()
    db = tmp_path / "calls.sqlite3"
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    async with CallStore(db) as store, UserStore(db, hasher=hasher, clock=clock) as users:
        await users.add("root", "admin", PASSWORDS["root"])
        await users.add("rita", "receptionist", PASSWORDS["rita"])
        live = LiveBus()
        (tmp_path / "personas").mkdir()
        shutil.copy(REPO / "config" / "personas" / "default.yaml", tmp_path / "personas")
        personas = PersonaFiles(tmp_path / "personas", clock=clock)
        metrics = Metrics()
        app = console_app(metrics, store, users, clock, live=live, personas=personas,
                          health=fake_health_checks, settings=settings, voices=voices,
                          chat=chat)
        yield Console(store, users, clock, app, live, personas, metrics)


async def login(client: httpx.AsyncClient, name: str) -> str:
    """Signs in; returns the CSRF token."""
    response = await client.post("/api/login", json={"name": name, "password": PASSWORDS[name]})
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])
