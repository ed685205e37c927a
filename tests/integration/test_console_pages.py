"""The console's admin pages and its chat in a real browser (Debian's chromium driven by
Playwright) against a real `secretary run` on the Asterisk testbed: the dashboard, users and
the audit log, lines and health, the language-model settings, the voices (clips checked, a
sentence spoken, a voice chosen), and a text conversation in which a message is left.

The app's calendar is frozen on a Saturday night (nobody to put a caller through to, so the
secretary offers to take a message), whatever the hour the tests run. Screenshots of every
page, desktop and phone-sized, are kept in each test's tmp_path."""

from __future__ import annotations

import sqlite3
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from consolekit import (
    ADMIN,
    BASE,
    RECEPTIONIST,
    ConsoleApp,
    build_ui,
    log_in,
    require_chromium,
    running_console,
    shoot,
)

from ari_app.llm.local_server import free_port
from testkit.human_speech import HumanClip

pytestmark = pytest.mark.integration

SEEDED = 300
SATURDAY_NIGHT = "2026-11-28T22:00:00+03:00"
# sentences the app's own Russian voice reads for the reference clips (each well over 3 s)
CLIP_TEXTS = (
    "Добрый день! Вы позвонили в компанию Ромашка. Меня зовут Анна, я с радостью отвечу "
    "на ваши вопросы о доставке, ценах и часах работы.",
    "Если вам нужно оставить сообщение для сотрудников, назовите, пожалуйста, своё имя "
    "и номер телефона, и мы обязательно перезвоним вам сегодня.",
)


@pytest.fixture(scope="module")
def console(asterisk_testbed: Any,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleApp]:
    require_chromium()  # before the app starts: nothing to test without the browser
    build_ui()
    directory = tmp_path_factory.mktemp("console-pages")
    overrides = {"paths": {"voices_dir": str(directory / "voices")},
                 "frozen_time": SATURDAY_NIGHT,
                 # the staff's webhook is down: Messages must say the notice did not go out
                 "notify": {"webhook": {"url": f"http://127.0.0.1:{free_port()}/hook",
                                        "attempts": 1, "timeout_s": 2}}}
    with running_console(directory, SEEDED, overrides) as app:
        yield app


def config_of(console: ConsoleApp) -> dict[str, Any]:
    data = yaml.safe_load(console.config.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def csrf(page: Any) -> str:
    return str(page.request.get(f"{BASE}/api/me").json()["csrf_token"])


def plays_to_the_end(page: Any, element: Any) -> tuple[float, float]:
    """The media element's duration, and where it stood when it ended (played fast)."""
    page.wait_for_function(
        "(a) => isFinite(a.duration) && a.duration > 0", arg=element, timeout=30000)
    duration = float(element.evaluate("a => a.duration"))
    ended = element.evaluate("""a => new Promise((done, fail) => {
        a.addEventListener('ended', () => done(a.currentTime), { once: true })
        a.addEventListener('error', () => fail(String(a.error && a.error.message)), { once: true })
        a.pause()
        a.playbackRate = 4
        a.currentTime = 0
        a.play().catch((e) => fail(String(e)))
    })""")
    return duration, float(ended)


def test_dashboard_users_and_the_audit_log(console: ConsoleApp, page: Any,
                                           tmp_path: Path) -> None:
    log_in(page, *ADMIN)
    page.click("[data-testid=nav-dashboard]")
    page.wait_for_selector("[data-testid=dash-calls] .value")
    shown = page.request.get(f"{BASE}/api/dashboard?tz=UTC").json()
    # the seeded calls are one every ten minutes: the chart has the last 24 hours, hour by hour
    assert page.locator("[data-testid=dash-hour]").count() == 24
    drawn = page.locator("[data-testid=dash-chart] rect.p50").count()
    assert drawn >= 20, drawn  # every hour but the last one or two (the calls began 1 h ago)
    assert all(400 <= h["p50_ms"] <= 700 for h in shown["hours"] if h["p50_ms"] is not None)
    assert shown["calls"] <= SEEDED
    # the engines' tile: a fresh app on a healthy testbed, nothing failed or waiting
    engines = page.locator("[data-testid=dash-engines]")
    assert engines.get_attribute("data-ok") == "true", engines.inner_text()
    assert shown["engines"]["records_spooled"] == 0 and not shown["engines"]["draining"]
    shoot(page, tmp_path, "dashboard")

    page.click("[data-testid=nav-users]")
    page.wait_for_selector("[data-testid=user-row]")
    names = page.locator("[data-testid=user-name]").all_inner_texts()
    assert {ADMIN[0], RECEPTIONIST[0]} <= set(names), names
    form = page.locator("[data-testid=user-add-form]")
    form.locator("input[name=name]").fill("olga")
    form.locator("input[name=password]").fill("short")  # under 8 characters: refused here
    form.locator("[data-testid=user-add]").click()
    assert page.locator("[data-testid=user-row][data-name=olga]").count() == 0
    form.locator("input[name=password]").fill("olga-secret-1")
    with page.expect_response(lambda r: r.url.endswith("/api/users")
                              and r.request.method == "POST") as made:
        form.locator("[data-testid=user-add]").click()
    assert made.value.status in (200, 201), made.value.text()
    row = page.wait_for_selector("[data-testid=user-row][data-name=olga]")
    assert row.query_selector("[data-testid=user-role]").evaluate("s => s.value") == "receptionist"
    page.wait_for_selector("[data-testid=audit-row][data-what=user_add]")
    audit = page.locator("[data-testid=audit-row][data-what=user_add]").first.inner_text()
    assert ADMIN[0] in audit and "olga" in audit, audit
    shoot(page, tmp_path, "users")
    # she can sign in with the password the admin gave her
    page.click("[data-testid=logout]")
    log_in(page, "olga", "olga-secret-1")
    assert page.locator("[data-testid=nav-users]").count() == 0


def test_health_runs_the_checks_on_the_testbed(console: ConsoleApp, page: Any,
                                               tmp_path: Path) -> None:
    log_in(page, *ADMIN)
    page.click("[data-testid=nav-health]")
    page.click("[data-testid=health-run]")
    page.wait_for_selector("[data-testid=health-summary]", timeout=45000)
    checks = page.locator("[data-testid=health-check]")
    assert checks.count() >= 3
    statuses = {row.locator("strong").inner_text(): row.get_attribute("data-status")
                for row in checks.all()}
    ari = [name for name in statuses if "ARI" in name or "ari" in name.lower()]
    assert ari and all(statuses[name] == "ok" for name in ari), statuses  # the testbed is up
    shoot(page, tmp_path, "health")


def test_settings_add_a_model_that_does_not_answer(console: ConsoleApp, page: Any,
                                                   tmp_path: Path) -> None:
    """A provider added and saved is in the config (the app uses it from its next start);
    its test says it does not answer (nothing listens on its address)."""
    log_in(page, *ADMIN)
    page.click("[data-testid=nav-settings]")
    page.wait_for_selector("[data-testid=llm-add-form]")
    form = page.locator("[data-testid=llm-add-form]")
    form.locator("select[name=kind]").select_option("openai")
    form.locator("input[name=model]").fill("qwen-test")
    form.locator("input[name=base_url]").fill("http://127.0.0.1:9/v1")
    form.locator("[data-testid=llm-add]").click()
    with page.expect_response(lambda r: r.url.endswith("/api/settings/llm")
                              and r.request.method == "PUT") as saved:
        page.click("[data-testid=llm-save]")
    assert saved.value.status == 200, saved.value.text()
    page.wait_for_selector("[data-testid=llm-restart]")
    page.reload()  # the notice stays until the app runs what the file says
    page.wait_for_selector("[data-testid=llm-restart]")
    providers = config_of(console)["llm"]["providers"]
    assert [(p["kind"], p["model"]) for p in providers][-1] == ("openai", "qwen-test")
    last = page.locator("[data-testid=llm-provider]").last
    last.locator("[data-testid=llm-test]").click()
    result = page.wait_for_selector("[data-testid=llm-test-result]", timeout=60000)
    assert "error" in (result.get_attribute("class") or ""), result.inner_text()
    shoot(page, tmp_path, "settings")


def test_voices_checked_spoken_and_chosen(console: ConsoleApp, page: Any, tmp_path: Path,
                                          human_speech: dict[str, HumanClip]) -> None:
    log_in(page, *ADMIN)
    page.click("[data-testid=nav-voices]")
    page.wait_for_selector("[data-testid=voice-choice]")
    ru = page.locator("[data-testid=voice-choice][data-key='lang:ru']")
    before = config_of(console)["tts"]["voices"]["ru"]
    assert before["voice"] in ru.locator("[data-testid=voice-current]").inner_text()
    page.wait_for_selector("[data-testid=voices-none]")  # nothing cloned yet
    shoot(page, tmp_path, "voices-empty")

    # hear the Russian voice say a sentence: a WAV the browser plays to its end
    speak = page.locator("[data-testid=voice-speak]")
    speak.locator("select[name=target]").select_option("lang:ru")
    speak.locator("textarea[name=text]").fill("Проверка голоса: один, два, три.")
    speak.locator("[data-testid=voice-say]").click()
    audio = page.wait_for_selector("[data-testid=voice-audio]", timeout=30000)
    duration, ended = plays_to_the_end(page, audio)
    assert duration > 1.0, duration
    assert ended >= duration - 0.1, (ended, duration)

    # reference clips: the same voice reads two longer sentences, kept as WAV files
    token = csrf(page)
    good = []
    for i, text in enumerate(CLIP_TEXTS):
        spoken = page.request.post(f"{BASE}/api/voices/speak", headers={"X-CSRF-Token": token},
                                   data={"language": "ru", "text": text})
        assert spoken.ok, spoken.text()
        path = tmp_path / f"anna-{i + 1}.wav"
        path.write_bytes(spoken.body())
        good.append(path)
    # a real caller's telephone recording is 8 kHz: refused, by its file name, with nothing kept
    phone_clip = next(c for c in human_speech.values()
                      if c.language == "ru" and c.samples / 8000 >= 4.0)
    with wave.open(str(phone_clip.wav)) as w:
        assert w.getframerate() == 8000
    form = page.locator("[data-testid=voice-upload]")
    form.locator("input[name=voice-name]").fill("caller")
    form.locator("input[name=files]").set_input_files([str(good[0]), str(phone_clip.wav)])
    with page.expect_response(lambda r: r.url.endswith("/api/voices")
                              and r.request.method == "POST") as refused:
        form.locator("[data-testid=voice-upload-send]").click()
    assert refused.value.status == 422
    bad = page.wait_for_selector(f"[data-testid=voice-clip][data-file='{phone_clip.wav.name}']")
    assert "16000" in bad.inner_text() and "error" in (bad.get_attribute("class") or "")
    assert page.locator("[data-testid=voice-upload-error]").is_visible()
    assert page.locator("[data-testid=voices-none]").is_visible()  # nothing was kept
    shoot(page, tmp_path, "voices-refused")

    form.locator("input[name=voice-name]").fill("anna_clone")
    form.locator("input[name=files]").set_input_files([str(p) for p in good])
    with page.expect_response(lambda r: r.url.endswith("/api/voices")
                              and r.request.method == "POST") as kept:
        form.locator("[data-testid=voice-upload-send]").click()
    assert kept.value.status == 201, kept.value.text()
    row = page.wait_for_selector("[data-testid=voice-row]:has-text('anna_clone')")
    assert "2" in row.inner_text()
    voices_dir = Path(config_of(console)["paths"]["voices_dir"])
    assert len(list((voices_dir / "anna_clone").glob("*.wav"))) == 2

    # the Russian voice chosen: written to the config, used from the next start
    ru.locator("select[name=engine]").select_option("espeak")
    ru.locator("input[name=voice]").fill("ru")
    ru.locator("[data-testid=voice-choose]").click()
    msg = page.wait_for_selector("[data-testid=voice-choice][data-key='lang:ru'] "
                                 "[data-testid=voice-choice-msg].ok")
    assert msg.inner_text()
    assert config_of(console)["tts"]["voices"]["ru"] == {"engine": "espeak", "voice": "ru"}
    # a line's own voice: the English line speaks with eSpeak, the English language keeps its own
    line = page.locator("[data-testid=voice-choice][data-key='line:testbed-en']")
    line.locator("select[name=engine]").select_option("espeak")
    line.locator("input[name=voice]").fill("en")
    line.locator("[data-testid=voice-choose]").click()
    page.wait_for_selector("[data-testid=voice-choice][data-key='line:testbed-en'] "
                           "[data-testid=voice-choice-msg].ok")
    saved = config_of(console)
    assert saved["lines"]["testbed-en"] == {"language": "en",
                                            "voice": {"engine": "espeak", "voice": "en"}}
    assert saved["tts"]["voices"]["en"]["engine"] != "espeak"
    page.reload()  # both choices still shown as waiting for the next start
    for key, voice in (("lang:ru", "espeak · ru"), ("line:testbed-en", "espeak · en")):
        waiting = page.wait_for_selector(f"[data-testid=voice-choice][data-key='{key}'] "
                                         "[data-testid=voice-choice-msg].ok")
        assert voice in waiting.inner_text(), (key, waiting.inner_text())
    # and the line back to its language's voice
    line = page.locator("[data-testid=voice-choice][data-key='line:testbed-en']")
    with page.expect_response(lambda r: "/api/voices/choice" in r.url
                              and r.request.method == "DELETE") as reset:
        line.locator("[data-testid=voice-reset]").click()
    assert reset.value.status == 200, reset.value.text()
    assert "voice" not in config_of(console)["lines"]["testbed-en"]
    assert line.locator("[data-testid=voice-reset]").count() == 0
    with sqlite3.connect(console.db) as conn:
        audit = {row[0] for row in conn.execute("SELECT what FROM console_audit")}
    assert {"voice_add", "voice_choice"} <= audit, audit
    shoot(page, tmp_path, "voices")


def test_a_message_left_in_the_chat_reaches_messages(console: ConsoleApp, page: Any,
                                                     tmp_path: Path) -> None:
    """The receptionist chats as a caller would on a Saturday night: the secretary greets,
    offers to take a message, takes the name and number, and the message is in Messages."""
    started = time.time()
    log_in(page, *RECEPTIONIST)
    page.click("[data-testid=nav-chat]")
    first = page.wait_for_selector("[data-testid=chat-turn][data-who=secretary]")
    assert first.inner_text().strip()  # the greeting
    said = [
        "Можно у вас заказать пиццу?", "Да", "Меня зовут Олег Смирнов",
        "восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь", "да",
        "Хочу заказать пиццу", "не срочно", "да",
    ]  # fmt: skip
    for n, text in enumerate(said, start=1):
        page.fill("[data-testid=chat-input]", text)
        page.press("[data-testid=chat-input]", "Enter")
        page.wait_for_function(
            "(n) => document.querySelectorAll('[data-testid=chat-turn][data-who=secretary]')"
            ".length > n", arg=n, timeout=30000)
        if page.locator("[data-testid=chat-ended]").count():
            break
    tags = page.locator("[data-testid=chat-tags]").all_inner_texts()
    assert any("№" in tag for tag in tags), (tags, page.inner_text("[data-testid=chat-transcript]"))
    shoot(page, tmp_path, "chat")
    with sqlite3.connect(console.db) as conn:
        rows = conn.execute("SELECT name, callback_number, call_id FROM messages "
                            "WHERE created_at > ?", (started,)).fetchall()
    assert len(rows) == 1, rows  # stored with the callers' messages, with no call of its own
    name, number, call_id = rows[0]
    assert "Олег" in name and call_id is None
    assert "".join(ch for ch in number if ch.isdigit()) == "89161234567"
    page.click("[data-testid=nav] >> text=Сообщения")
    row = page.wait_for_selector("[data-testid=message-row]:has-text('Олег')")
    assert row.query_selector("a[href^='tel:']").get_attribute("href") == "tel:89161234567"
    # the staff's webhook refused it: the page says so once the outcome is recorded
    failed = "[data-testid=message-row]:has-text('Олег') [data-outcome=failed]"
    deadline = time.monotonic() + 20
    while not page.locator(failed).count() and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        page.reload()
        page.wait_for_selector("[data-testid=message-row]")
    assert "webhook" in page.locator(failed).inner_text()
    # the seeded messages, sent before any channel was configured, show none
    assert page.locator("[data-testid=message-row]:has-text('Мария') [data-outcome]").count() == 0
    # the one whose caller hung up during the read-back is marked; the confirmed ones are not
    marked = page.locator("[data-testid=message-row]:has([data-testid=unconfirmed])")
    assert marked.count() == 1 and "John Smith" in marked.inner_text()
    shoot(page, tmp_path, "messages-from-chat")
