"""`secretary chat` as a user runs it: a child process, the conversation piped to stdin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ari_app.config import load_config
from ari_app.mind.dialogue import Dialogue
from ari_app.mind.persona import Persona, load_persona
from testkit.local import write_config

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def persona() -> Persona:
    return load_persona(REPO / "config" / "personas" / "default.yaml")


def chat(args: list[str], stdin: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SECRETARY_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "ari_app.cli.chat", *args], input=stdin, cwd=cwd, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("language", "lines"),
    [
        ("ru", ["Подскажите, какие у вас часы работы?", "", "Спасибо, до свидания!"]),
        ("en", ["When are you open?", "Thanks, goodbye!"]),
    ],
)
def test_conversation_until_goodbye(
    tmp_path: Path, persona: Persona, language: str, lines: list[str]
) -> None:
    config = write_config(tmp_path)
    after_goodbye = "this line is never answered"
    done = chat(["--lang", language, "-c", str(config)], "\n".join([*lines, after_goodbye]) + "\n")
    assert done.returncode == 0, done.stderr
    frozen = load_config(config).frozen_time  # the testbed's calendar is a fixed Tuesday
    assert frozen is not None
    ours = Dialogue(persona, language, now=lambda: frozen)
    name = persona.secretary_name[language]
    expected = [ours.greeting()] + [ours.reply(line).text for line in lines if line]
    assert done.stdout.splitlines() == [f"{name}: {text}" for text in expected]
    assert expected[-1] == ours.goodbye()


def test_stdin_ending_ends_the_chat(tmp_path: Path, persona: Persona) -> None:
    # no config file in the working directory: the persona file given, Russian
    done = chat(["--persona", str(REPO / "config" / "personas" / "default.yaml")], "", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{persona.secretary_name['ru']}: {Dialogue(persona, 'ru').greeting()}\n"


def test_a_taken_message_is_shown(tmp_path: Path) -> None:
    lines = [
        "Можно у вас заказать пиццу?", "Да", "Меня зовут Иван Петров",
        "восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь", "да",
        "Хочу заказать пиццу", "не срочно", "да",
    ]  # fmt: skip
    # Saturday night: nobody to put the caller through to, so the answer is a message offer
    config = write_config(tmp_path, {"frozen_time": "2026-11-28T22:00:00+03:00"})
    done = chat(["-c", str(config)], "\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    assert "[message for the staff, not sent (no --notify)]" in done.stdout
    assert "    Имя: Иван Петров" in done.stdout
    assert "    Номер для обратного звонка: 89161234567" in done.stdout


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--persona", "nobody"], 2, "no such persona"),
        (["-c", "/nonexistent/secretary.yaml"], 2, "cannot read"),
        (["--lang", "de"], 2, "invalid choice"),
        (["--notify", "-c", "config/testbed.yaml"], 2, "no notify.smtp or notify.webhook"),
    ],
)
def test_errors_name_the_problem(args: list[str], code: int, words: str) -> None:
    done = chat(args, "")
    assert done.returncode == code
    assert words in done.stderr
