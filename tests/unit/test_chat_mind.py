"""`secretary chat` (cli/chat.py) through the same Mind as calls: the config's `llm:` models
answer (scripted fake providers, test_llm_chain.FakeProvider), the rules when none does or
when there is no `llm:` section."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_llm_chain import FakeProvider, chain

from ari_app.cli import chat as chat_cli
from ari_app.llm.base import LlmError, ToolCall
from ari_app.llm.chain import FallbackChain
from ari_app.llm.config import LlmConfig
from ari_app.mind.dialogue import Dialogue
from ari_app.mind.persona import Personas
from ari_app.notify.message import StaffMessage

PERSONAS = Path(__file__).resolve().parents[2] / "config" / "personas"
TUESDAY_11 = dt.datetime.fromisoformat("2026-11-24T11:00:00+03:00")
TAKE_MESSAGE = ToolCall("1", "take_message", {
    "caller_name": "Анна", "callback_number": "8 916 123 45 67", "message": "про счёт",
})  # fmt: skip


def rules() -> Dialogue:
    return Dialogue(Personas(PERSONAS)("default"), "ru", now=lambda: TUESDAY_11)


async def test_the_model_answers_and_its_message_is_handed_on() -> None:
    sent: list[StaffMessage] = []

    async def on_message(message: StaffMessage) -> str:
        sent.append(message)
        return "sent"

    model = FakeProvider("fake", ["Доставка ", "бесплатная."])
    out = io.StringIO()
    lines = ["Сколько стоит доставка?", "", "Спасибо, до свидания!", "never answered"]
    assert await chat_cli.run_chat(rules(), lines, out, llm=chain(model)) == 0
    said = out.getvalue().splitlines()
    assert said[1].endswith(": Доставка бесплатная.") and len(said) == 3
    assert model.calls == 1  # the goodbye stays with the rules, and ends the chat
    taker = FakeProvider("fake", [TAKE_MESSAGE])
    out = io.StringIO()
    await chat_cli.run_chat(rules(), ["Передайте Анне"], out, llm=chain(taker),
                            on_message=on_message)
    (message,) = sent
    assert message.name == "Анна" and message.call_id == "chat"
    assert "[message for the staff, sent]" in out.getvalue()


async def test_a_dead_model_leaves_the_chat_to_the_rules() -> None:
    dead = FakeProvider("dead", [LlmError("dead", "connection refused")])
    out = io.StringIO()
    await chat_cli.run_chat(rules(), ["Когда вы работаете?"], out, llm=chain(dead))
    alone = io.StringIO()
    await chat_cli.run_chat(rules(), ["Когда вы работаете?"], alone)
    assert dead.calls == 1 and out.getvalue() == alone.getvalue()


@pytest.mark.parametrize("with_llm", [True, False])
def test_chat_main_builds_the_models_of_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    with_llm: bool,
) -> None:
    config: dict[str, Any] = {
        "ari": {"password": "x"}, "paths": {"personas_dir": str(PERSONAS)},
        "frozen_time": TUESDAY_11.isoformat(),
    }  # fmt: skip
    if with_llm:
        config["llm"] = {"providers": [
            {"kind": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1"}
        ]}  # fmt: skip
    path = tmp_path / "secretary.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    model = FakeProvider("fake", ["Доставка бесплатная."])
    built: list[tuple[LlmConfig, str]] = []

    def build(cfg: LlmConfig, language: str = "ru") -> FallbackChain:
        built.append((cfg, language))
        return chain(model)

    monkeypatch.setattr(chat_cli, "build_chain", build)
    monkeypatch.setattr("sys.stdin", io.StringIO("Сколько стоит доставка?\n"))
    assert chat_cli.chat_main(["-c", str(path)]) == 0
    reply = capsys.readouterr().out.splitlines()[1]
    if with_llm:
        assert [cfg.providers[0].model for cfg, _ in built] == ["m"]
        assert reply.endswith(": Доставка бесплатная.") and model.calls == 1
    else:
        assert built == [] and model.calls == 0 and "Доставка бесплатная." not in reply
