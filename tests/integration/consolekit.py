"""What the console's browser tests share: the front end's build, a real `secretary run` on
the testbed over a database seeded with older calls, Debian's chromium driven by Playwright,
logging in, screenshots, and a call placed with sipp from a thread (Playwright's sync API
holds the test's own thread)."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from callkit import answer, dial

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
DIST = REPO / "ari_app" / "console" / "static_dist"
BASE = "http://127.0.0.1:8080"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ADMIN = ("anna", "anna-secret-1")
RECEPTIONIST = ("rita", "rita-secret-1")

# the testbed config answers on 100 (ru); greeting ~5 s, the hours answer ~8 s


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: Debian's chromium package (scripts/setup "
                    "installs it) runs these browser tests")


def build_ui() -> Path:
    """The front end's build; made here from console-ui/ when the set-up has not yet."""
    if not (DIST / "index.html").is_file():
        ui = REPO / "console-ui"
        if not (ui / "node_modules").is_dir():
            pytest.fail("the console UI is not built and console-ui/node_modules is missing: "
                        "run scripts/setup (or cd console-ui && npm ci && npm run build)",
                        pytrace=False)
        done = subprocess.run(["npm", "run", "build"], cwd=ui, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    return DIST


def seed(db: Path, count: int) -> None:
    """`count` ended calls of the past ~70 days with two turns each, and a few messages:
    the schema made by CallStore itself, the rows in one bulk insert."""
    from ari_app.storage import CallStore

    async def make_schema() -> None:
        async with CallStore(db):
            pass

    asyncio.run(make_schema())
    now = time.time()
    endings = ("caller_hangup", "app_hangup", "transferred")
    calls, turns = [], []
    for i in range(count):
        started = now - 3600 - i * 600
        call_id = f"seed-{i:05d}"
        calls.append((call_id, f"chan-{i}", "100" if i % 3 else "101", "testbed",
                      f"+7900{i:07d}", "ru", started, started + 40 + i % 50,
                      endings[i % 3]))
        greeting, v2v = "Компания «Ромашка», Анна, здравствуйте!", 400.0 + i % 7 * 50
        asked = f"Вопрос номер {i} про доставку"
        # the columns CallStore.add_turn fills: the folded text (search), v2v_ms (dashboard)
        turns.append((call_id, 0, "secretary", greeting, greeting.casefold(), started + 1,
                      started + 5, json.dumps({"tts_ms": 120.0, "v2v_ms": v2v}), v2v))
        turns.append((call_id, 1, "caller", asked, asked.casefold(), started + 6,
                      started + 9, json.dumps({"stt_ms": 300.0}), None))
    messages = [
        (f"seed-{i:05d}", now - 3600 - i * 600, "ru", name, number, reason, urgency,
         f"+7900{i:07d}", confirmed)
        for i, (name, number, reason, urgency, confirmed) in enumerate([
            ("Иван Петров", "+7 912 345-67-89", "перезвонить по заказу", "high", True),
            ("Мария", "8 800 555 35 35", "вопрос о доставке", "normal", True),
            # the caller hung up while the number was read back
            ("John Smith", "+44 20 7946 0000", "invoice question", "normal", False),
        ])
    ]
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO calls (call_id, channel_id, line, endpoint, caller_id, language, "
            "started_at, ended_at, ended_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", calls)
        conn.executemany(
            "INSERT INTO turns (call_id, idx, who, text, folded, started_at, ended_at, "
            "timings, v2v_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", turns)
        conn.executemany(
            "INSERT INTO messages (call_id, created_at, language, name, callback_number, "
            "reason, urgency, caller_id, confirmed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            messages)


def add_user(config: Path, name: str, password: str, role: str) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "ari_app.cli.main", "user", "add", "-c", str(config), name,
         "--role", role],
        input=f"{password}\n", capture_output=True, text=True, timeout=60, check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr


class ConsoleApp:
    def __init__(self, app: Any, config: Path, db: Path, personas: Path) -> None:
        self.app = app
        self.config = config
        self.db = db
        self.personas = personas
        self.paths: set[str] = set(httpx.get(f"{BASE}/api/openapi.json", timeout=10)
                                   .json()["paths"])

    def calls(self) -> int:
        with sqlite3.connect(self.db) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0])


@contextmanager
def running_console(directory: Path, seeded: int,
                    overrides: Mapping[str, Any] | None = None) -> Iterator[ConsoleApp]:
    """`secretary run` on the testbed config over a database already holding `seeded` calls,
    with an admin and a receptionist made by `secretary user add`; the personas are a copy
    in `directory` (the editor saves there, not in the checkout). SIGTERM must exit 0."""
    from testkit.local import LocalApp, write_config

    personas = directory / "personas"
    shutil.copytree(REPO / "config" / "personas", personas)
    paths = {"personas_dir": str(personas), **dict((overrides or {}).get("paths", {}))}
    config = write_config(directory, {**(overrides or {}), "paths": paths})
    db = directory / "calls.sqlite3"
    seed(db, seeded)
    add_user(config, *ADMIN, "admin")
    add_user(config, *RECEPTIONIST, "receptionist")
    app = LocalApp(config, directory / "secretary.log").start()
    try:
        yield ConsoleApp(app, config, db, personas)
    finally:
        rc = app.stop()
        assert rc == 0, f"secretary exited {rc} on SIGTERM:\n{app.output[-3000:]}"


@contextmanager
def launched_browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--autoplay-policy=no-user-gesture-required", "--mute-audio"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def new_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, locale="ru-RU")
    try:
        yield context.new_page()
    finally:
        context.close()


def at(path: str) -> Any:
    """A URL test for wait_for_url: the page's path is `path` (the query aside)."""
    return lambda url: urlsplit(url).path == path


def log_in(page: Any, name: str, password: str) -> None:
    page.goto(f"{BASE}/live")
    page.wait_for_url(at("/login"))
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(at("/live"))


def shoot(page: Any, tmp_path: Path, name: str) -> None:
    """The page as it is now, on the desktop and on a phone-sized screen."""
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(tmp_path / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(tmp_path / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


class InThread:
    """`work()` run in a thread; `result()` joins it and returns what it returned."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self._out: dict[str, Any] = {}
        self._thread = threading.Thread(target=lambda: self._out.update(value=work()))
        self._thread.start()

    def result(self, timeout_s: float = 120) -> Any:
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "sipp did not finish"
        assert "value" in self._out, "the call's thread failed (its error is printed above)"
        return self._out["value"]


def ask_the_hours(caller_audio: Mapping[str, Path], workdir: Path) -> InThread:
    """A caller on 100 asks for the opening hours, then says goodbye; the app hangs up."""
    return InThread(lambda: dial(
        exten="100",
        utterances=[
            answer(caller_audio["ru_hours"]),
            answer(caller_audio["ru_bye"]),
        ],
        workdir=workdir, hangup="remote", hangup_wait_ms=15000,
    ))
