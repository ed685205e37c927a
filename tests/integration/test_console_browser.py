"""The operator console's web front end (console-ui/, built into ari_app/console/static_dist)
in a real browser: Debian's headless chromium driven by Playwright, against a real
`secretary run` on the Asterisk testbed, whose call database holds 10,000 older calls made
before it started, and a real call placed with sipp.

Screenshots of every page, on a desktop and on a phone-sized screen, are kept in each
test's tmp_path. The admin's pages (dashboard, users, health, settings, voices) and the chat
are in test_console_pages.py."""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from callkit import answer, dial, wait_call_ended
from consolekit import (
    ADMIN,
    BASE,
    DESKTOP,
    PHONE,
    RECEPTIONIST,
    ConsoleApp,
    InThread,
    ask_the_hours,
    at,
    build_ui,
    log_in,
    require_chromium,
    running_console,
    shoot,
)

from testkit.runner import place_call
from testkit.scenario import CallerLine
from testkit.staff import StaffPhone

pytestmark = pytest.mark.integration

SEEDED = 10_000


@pytest.fixture(scope="module")
def console(asterisk_testbed: Any,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleApp]:
    require_chromium()  # before the app starts: nothing to test without the browser
    build_ui()
    with running_console(tmp_path_factory.mktemp("console-browser"), SEEDED) as app:
        yield app


def test_log_in_and_every_page(console: ConsoleApp, page: Any, tmp_path: Path) -> None:
    page.goto(f"{BASE}/")
    page.wait_for_selector("[data-testid=login-form]")
    shoot(page, tmp_path, "login")
    log_in(page, *ADMIN)
    nav = page.locator("[data-testid=nav]")
    assert nav.get_by_text("Звонки").is_visible()  # Russian by default
    assert page.locator("[data-testid=nav-settings]").is_visible()  # an admin
    shoot(page, tmp_path, "live")
    page.click("[data-testid=nav] >> text=Звонки")
    page.wait_for_selector("[data-testid=call-row]")
    assert page.locator("[data-testid=call-row]").count() == 25
    assert f"{SEEDED}" in page.inner_text("[data-testid=calls-total]").replace("\u00a0", "")
    shoot(page, tmp_path, "calls")
    # a search in the turns' words, as the API finds them
    page.fill("input[name=q]", "номер 1234 доставку")
    page.click("[data-testid=call-filters] button[type=submit]")
    page.wait_for_url(lambda url: "q=" in url)
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=call-row]').length === 1")
    page.click("[data-testid=call-row] a")
    page.wait_for_selector("[data-testid=turn]")
    assert "Вопрос номер 1234 про доставку" in page.inner_text("[data-testid=transcript]")
    assert "stt_ms=300" in page.inner_text("[data-testid=transcript]")
    shoot(page, tmp_path, "call-seeded")
    page.goto(f"{BASE}/messages")
    page.wait_for_selector("[data-testid=message-row]")
    rows = page.locator("[data-testid=message-row]")
    assert rows.count() == 3
    assert rows.first.get_by_text("Иван Петров").is_visible()  # newest first
    assert rows.first.locator("a[href^='tel:']").get_attribute("href") == "tel:+79123456789"
    shoot(page, tmp_path, "messages")
    if "/api/messages/{message_id}/handled" in console.paths:
        box = rows.first.locator("[data-testid=handled]")
        with page.expect_response(lambda r: r.url.endswith("/handled")) as posted:
            box.check()
        assert posted.value.ok
        page.reload()
        page.wait_for_selector("[data-testid=message-row]")
        assert page.locator("[data-testid=handled]").first.is_checked()
    page.goto(f"{BASE}/settings")
    page.wait_for_selector("[data-testid=settings]")
    shoot(page, tmp_path, "settings")
    # the language switch
    page.select_option("[data-testid=lang]", "en")
    assert page.locator("[data-testid=nav]").get_by_text("Calls").is_visible()
    # the phone's menu collapses behind its button
    page.set_viewport_size(PHONE)
    assert not page.locator("[data-testid=nav]").is_visible()
    page.click(".menu-toggle")
    assert page.locator("[data-testid=nav]").is_visible()
    page.screenshot(path=str(tmp_path / "menu-phone.png"))
    # installable: the service worker runs and keeps the app shell, nothing from /api
    page.set_viewport_size(DESKTOP)
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => !!r.active)")
    page.goto(f"{BASE}/calls")
    page.wait_for_selector("[data-testid=call-row]")
    cached = page.evaluate(
        "caches.keys().then((names) => Promise.all(names.map((n) => caches.open(n)"
        ".then((c) => c.keys())))).then((lists) => lists.flat().map((r) => r.url))")
    assert f"{BASE}/" in cached and any("/assets/" in url for url in cached), cached
    assert not [url for url in cached if "/api" in url], cached
    page.click("[data-testid=logout]")
    page.wait_for_url(at("/login"))
    assert httpx.get(f"{BASE}/manifest.webmanifest", timeout=10).json()["short_name"]
    assert httpx.get(f"{BASE}/sw.js", timeout=10).headers["cache-control"] == "no-cache"


def test_a_wrong_password_is_refused(console: ConsoleApp, page: Any, tmp_path: Path) -> None:
    page.goto(f"{BASE}/login")
    page.fill("input[name=name]", ADMIN[0])
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    error = page.wait_for_selector("[data-testid=login-error]")
    assert "Неверное имя или пароль" in error.inner_text()
    assert page.url.endswith("/login")
    shoot(page, tmp_path, "login-refused")


def test_a_receptionist_has_no_settings(console: ConsoleApp, page: Any, tmp_path: Path) -> None:
    log_in(page, *RECEPTIONIST)
    page.wait_for_selector("[data-testid=nav]")
    assert page.locator("[data-testid=nav-settings]").count() == 0
    page.goto(f"{BASE}/settings")
    page.wait_for_url(at("/live"))  # the route guard sends her away
    assert page.locator("[data-testid=settings]").count() == 0
    assert page.request.get(f"{BASE}/api/audit").status == 403  # with her session's cookie
    assert page.request.get(f"{BASE}/api/calls?limit=1").status == 200
    shoot(page, tmp_path, "live-receptionist")


def live_socket_answers(page: Any) -> bool:
    """Whether WS /api/live accepts this page's session (the route may not be there yet)."""
    return bool(page.evaluate("""() => new Promise((done) => {
        const ws = new WebSocket(`ws://${location.host}/api/live`)
        const timer = setTimeout(() => done(false), 3000)
        ws.onmessage = () => { clearTimeout(timer); ws.close(); done(true) }
        ws.onerror = () => { clearTimeout(timer); done(false) }
    })"""))


def test_a_real_call_in_the_console(
    console: ConsoleApp, page: Any, caller_audio: dict[str, Path], tmp_path: Path
) -> None:
    log_in(page, *ADMIN)
    live = live_socket_answers(page)
    calls_before = SEEDED
    caller = ask_the_hours(caller_audio, tmp_path)
    if live:  # the call as it goes, on the Live page
        page.wait_for_selector("[data-testid=live-call]", timeout=20000)
        # listening in: the call's audio arrives (seconds counted as frames come in)
        page.click("[data-testid=live-call] [data-testid=listen]")
        page.wait_for_function(
            "() => { const h = document.querySelector('[data-testid=heard]');"
            " return h && !h.textContent.includes('0:00') }", timeout=15000)
        page.wait_for_selector("[data-testid=live-call] .turn.caller", timeout=30000)
        shoot(page, tmp_path, "live-call")
    dialled = caller.result()
    assert dialled.sipp_rc == 0, dialled.sipp_log + console.app.output[-3000:]
    record = wait_call_ended(console.db, calls_before + 1)
    real = max(record, key=lambda c: c["started_at"])
    said = [t["text"] for t in real["turns"] if t["who"] == "caller"]
    assert said, real

    page.goto(f"{BASE}/calls")
    first = page.locator("[data-testid=call-row]").first
    first.wait_for()
    assert f"{SEEDED + 1}" in page.inner_text("[data-testid=calls-total]").replace("\u00a0", "")
    first.locator("a").click()
    page.wait_for_url(at(f"/calls/{real['call_id']}"))
    page.wait_for_selector("[data-testid=turn]")
    transcript = page.inner_text("[data-testid=transcript]")
    assert said[0] in transcript, (said, transcript)
    assert page.locator("[data-testid=turn]").count() == len(real["turns"])
    shoot(page, tmp_path, "call-real")
    if live:
        page.goto(f"{BASE}/live")
        page.wait_for_selector("[data-testid=no-live-calls]")  # the call ended there too

    if "/api/calls/{call_id}/audio" not in console.paths:
        pytest.skip("GET /api/calls/{call_id}/audio is not in the backend yet")
    page.goto(f"{BASE}/calls/{real['call_id']}")
    audio = page.wait_for_selector("[data-testid=call-audio]")
    page.wait_for_function(
        "() => { const a = document.querySelector('[data-testid=call-audio]');"
        " return a && isFinite(a.duration) && a.duration > 0 }", timeout=15000)
    duration = float(audio.evaluate("a => a.duration"))
    assert duration > 5, duration  # the whole call, ~30 s
    ended = audio.evaluate("""a => new Promise((done, fail) => {
        a.addEventListener('ended', () => done(a.currentTime), { once: true })
        a.addEventListener('error', () => fail(String(a.error && a.error.message)), { once: true })
        a.playbackRate = 4
        a.currentTime = Math.max(0, a.duration - 1.5)
        a.play().catch((e) => fail(String(e)))
    })""")
    assert float(ended) >= duration - 0.1
    # the waveform was drawn from the decoded audio: some pixels are not blank
    page.wait_for_function("""() => {
        const c = document.querySelector('[data-testid=waveform]')
        if (!c || !c.width) return false
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
        for (let i = 3; i < d.length; i += 4) if (d[i]) return true
        return false }""", timeout=10000)
    shoot(page, tmp_path, "call-real-audio")


def test_an_operator_hangs_up_from_the_live_page(
    console: ConsoleApp, page: Any, caller_audio: dict[str, Path], tmp_path: Path
) -> None:
    log_in(page, *RECEPTIONIST)
    if "/api/live/{call_id}/hangup" not in console.paths or not live_socket_answers(page):
        pytest.skip("WS /api/live or POST /api/live/{call_id}/hangup is not in the backend yet")
    before = console.calls()
    # the caller asks, then would wait a minute for the app to hang up
    caller = InThread(lambda: dial(
        exten="100",
        utterances=[answer(caller_audio["ru_hours"])],
        workdir=tmp_path, hangup="remote", hangup_wait_ms=60000,
    ))
    card = page.wait_for_selector("[data-testid=live-call]", timeout=20000)
    page.wait_for_selector("[data-testid=live-call] .turn.caller", timeout=30000)
    # a transfer to no one is refused, and the page says why
    card.query_selector("input[list=transfer-targets]").fill("nobody-at-all")
    with page.expect_response(lambda r: r.url.endswith("/transfer")) as refused:
        card.query_selector("[data-testid=transfer]").click()
    assert refused.value.status == 422
    error = page.wait_for_selector("[data-testid=live-call] .error")
    assert "nobody-at-all" in error.inner_text()
    shoot(page, tmp_path, "live-transfer-refused")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_response(lambda r: r.url.endswith("/hangup")) as posted:
        card.query_selector("[data-testid=hangup]").click()
    assert posted.value.ok, posted.value.text()
    page.wait_for_selector("[data-testid=no-live-calls]", timeout=15000)
    dialled = caller.result(90)
    assert dialled.hung_up_by == "remote", dialled.sipp_log
    calls = wait_call_ended(console.db, before + 1)
    ended = max(calls, key=lambda c: c["started_at"])
    assert ended["ended_by"] == "operator_hangup", ended


def test_the_calls_page_is_quick_with_ten_thousand_calls(
    console: ConsoleApp, page: Any, tmp_path: Path
) -> None:
    """From navigation to the table on screen, over a database of 10,000+ calls."""
    assert console.calls() >= SEEDED
    log_in(page, *ADMIN)
    page.goto(f"{BASE}/calls")  # once for the browser's cache, as an operator's would be
    page.wait_for_selector("[data-testid=call-row]")
    took = []
    for _ in range(5):
        page.goto(f"{BASE}/live")
        page.wait_for_selector("[data-testid=nav]")
        start = time.monotonic()
        page.goto(f"{BASE}/calls")
        page.wait_for_selector("[data-testid=call-row] >> nth=24")
        took.append(time.monotonic() - start)
    cold = page.context.browser.new_context(viewport=DESKTOP)
    try:  # a fresh browser profile (nothing cached): logged in through the API
        fresh = cold.new_page()
        fresh.request.post(f"{BASE}/api/login",
                           data={"name": ADMIN[0], "password": ADMIN[1]})
        start = time.monotonic()
        fresh.goto(f"{BASE}/calls")
        fresh.wait_for_selector("[data-testid=call-row] >> nth=24")
        took_cold = time.monotonic() - start
    finally:
        cold.close()
    print(f"/calls rendered in {', '.join(f'{t * 1000:.0f}' for t in took)} ms; "
          f"with nothing cached {took_cold * 1000:.0f} ms")
    assert statistics.median(took) < 1.0, took
    assert took_cold < 1.0, took_cold
    shoot(page, tmp_path, "calls-timed")


def test_an_operator_puts_a_caller_through_from_the_live_page(
    console: ConsoleApp, page: Any, caller_audio: dict[str, Path], tmp_path: Path
) -> None:
    """The receptionist presses transfer: the staff phone (sipp on 5090) rings, takes the
    call with 1, and the record and the audit log say she put it through."""
    log_in(page, *RECEPTIONIST)
    before = console.calls()

    async def call_and_staff() -> tuple[Any, Any]:
        async with StaffPhone(tmp_path / "staff", "accept", ring_ms=1000,
                              key_after_ms=3000) as phone:
            dialled = await place_call(
                exten="100",
                utterances=[CallerLine(caller_audio["ru_hours"], pause_before_ms=5000),
                            CallerLine(caller_audio["ru_hello_staff"], pause_before_ms=14000)],
                workdir=tmp_path / "caller", hangup="caller", hangup_wait_ms=2000,
            )
            return dialled, await phone.result(timeout_s=40)

    phones = InThread(lambda: asyncio.run(call_and_staff()))
    card = page.wait_for_selector("[data-testid=live-call]", timeout=20000)
    page.wait_for_selector("[data-testid=live-call] .turn.caller", timeout=30000)
    card.query_selector("input[list=transfer-targets]").fill("accounting")
    with page.expect_response(lambda r: r.url.endswith("/transfer")) as moved:
        card.query_selector("[data-testid=transfer]").click()
    assert moved.value.ok, moved.value.text()
    shoot(page, tmp_path, "live-transferred")
    dialled, staff = phones.result()
    assert dialled.sipp_rc == 0, dialled.sipp_log
    assert staff.key_sent_at_log, staff.log  # took the call with 1
    calls = wait_call_ended(console.db, before + 1)
    record = max(calls, key=lambda c: c["started_at"])
    assert (record["ended_by"], record["transferred_to"]) == ("transferred", "accounting")
    with sqlite3.connect(console.db) as conn:
        by = conn.execute("SELECT transferred_by FROM calls WHERE call_id = ?",
                          (record["call_id"],)).fetchone()[0]
        audit = conn.execute("SELECT who FROM console_audit WHERE what = 'transfer'"
                             ).fetchall()
    assert by == RECEPTIONIST[0]
    assert (RECEPTIONIST[0],) in audit


def test_saturday_hours_changed_in_persona_reach_the_next_caller(
    console: ConsoleApp, page: Any, caller_audio: dict[str, Path], tmp_path: Path
) -> None:
    """An invalid time is refused with the field named and nothing written; a valid one is
    saved (comments kept) and the next caller asking for the hours is told it."""
    persona_file = console.personas / "default.yaml"
    original = persona_file.read_text(encoding="utf-8")
    assert yaml.safe_load(original)["hours"]["sat"] == "closed"
    log_in(page, *ADMIN)
    page.goto(f"{BASE}/persona")
    span = page.wait_for_selector("[data-field='hours.sat']")
    closed = page.locator("[data-field='hours.sat.closed']")
    if closed.is_checked():
        closed.uncheck()
    span.fill("25:00-14:00")
    with page.expect_response(lambda r: "/api/persona/" in r.url
                              and r.request.method == "PUT") as refused:
        page.click("[data-test=persona-save]")
    assert refused.value.status == 422
    errors = page.wait_for_selector("[data-test=persona-errors]")
    assert "hours.sat" in errors.inner_text()
    assert persona_file.read_text(encoding="utf-8") == original  # nothing written
    shoot(page, tmp_path, "persona-refused")
    page.fill("[data-field='hours.sat']", "10:00-14:00")
    with page.expect_response(lambda r: "/api/persona/" in r.url
                              and r.request.method == "PUT") as saved:
        page.click("[data-test=persona-save]")
    assert saved.value.status == 200, saved.value.text()
    page.wait_for_selector("[data-test=persona-errors]", state="detached")
    saved_text = persona_file.read_text(encoding="utf-8")
    assert yaml.safe_load(saved_text)["hours"]["sat"] == "10:00-14:00", saved_text
    comment_lines = [line for line in original.splitlines() if line.lstrip().startswith("#")]
    assert all(line in saved_text for line in comment_lines)  # the admin's comments stay
    shoot(page, tmp_path, "persona-saved")

    before = console.calls()
    dialled = ask_the_hours(caller_audio, tmp_path).result()
    assert dialled.sipp_rc == 0, dialled.sipp_log + console.app.output[-3000:]
    calls = wait_call_ended(console.db, before + 1)
    call_record = max(calls, key=lambda c: c["started_at"])
    told = " ".join(t["text"] for t in call_record["turns"] if t["who"] == "secretary").lower()
    # the weekly hours sentence now has Saturday's own hours: "в субботу с десяти до
    # четырнадцати" (before: "в субботу и воскресенье выходной")
    assert "субботу с десяти до четырнадцати" in told, told
