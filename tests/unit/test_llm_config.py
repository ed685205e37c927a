"""The llm: config section, the system prompt and the tool schemas."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ari_app.llm.base import ToolCall
from ari_app.llm.config import LlmConfig, ProviderConfig
from ari_app.llm.prompt import build_system_prompt
from ari_app.llm.tools import SECRETARY_TOOLS, problems


def test_defaults_and_labels() -> None:
    config = LlmConfig.model_validate({"providers": [
        {"kind": "openai", "model": "smollm2", "base_url": "http://127.0.0.1:8081/v1/"},
        {"kind": "anthropic", "model": "claude-x", "api_key_env": "ANTHROPIC_API_KEY"},
    ]})  # fmt: skip
    local, cloud = config.providers
    assert local.label == "openai:smollm2" and local.url == "http://127.0.0.1:8081/v1"
    assert cloud.url == "https://api.anthropic.com/v1"
    assert config.filler["ru"] and config.filler["en"]
    assert config.filler_after_s <= 1.0  # the filler must come before dead air is heard


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"providers": []}, "providers"),
        ({"providers": [{"kind": "ollama", "model": "x"}]}, "kind"),
        ({"providers": [{"kind": "openai", "model": "x", "base_url": "ftp://x"}]}, "http"),
        ({"providers": [{"kind": "openai", "model": "x", "apikey": "k"}]}, "apikey"),
        ({"providers": [{"kind": "openai", "model": "x", "first_token_timeout_s": 5,
                         "total_timeout_s": 2}]}, "total_timeout_s"),
        ({"providers": [{"kind": "openai", "model": "x"}, {"kind": "openai", "model": "x"}]},
         "used twice"),
        ({"providers": [{"kind": "openai", "model": "x"}], "filler": {"ru": []}}, "filler.ru"),
    ],
)
def test_bad_config_names_the_key(data: dict[str, object], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        LlmConfig.model_validate(data)


def test_config_is_frozen() -> None:
    provider = ProviderConfig(kind="openai", model="m")
    with pytest.raises(ValidationError):
        provider.model = "other"


def test_prompt_carries_the_facts_and_the_rules() -> None:
    facts = "Часы работы: пн-пт 9:00-18:00. Адрес: ул. Ленина, 1. {не шаблон}"
    ru = build_system_prompt(facts, "Ромашка", "Анна", "ru", "дружелюбный")
    assert facts in ru and "Ромашка" in ru and "Анна" in ru and "дружелюбный" in ru
    assert "Ничего не придумывай" in ru
    assert "take_message" in ru and "transfer_call" in ru
    assert "одно-два предложения" in ru
    en = build_system_prompt("Open 9-6.", "Acme", "Anna", "en", "")
    assert "Never invent" in en and "English" in en and "polite" in en
    assert "take_message" in en and "transfer_call" in en
    de = build_system_prompt("x", "Acme", "Anna", "de", "formal")
    assert "German" in de
    empty = build_system_prompt("  ", "Acme", "Anna", "en", "formal")
    assert "no facts were given" in empty


def test_tool_schemas() -> None:
    names = [t.name for t in SECRETARY_TOOLS]
    assert names == ["take_message", "transfer_call", "check_hours", "end_call"]
    for tool in SECRETARY_TOOLS:
        assert tool.parameters["type"] == "object" and tool.description
        assert set(tool.parameters["required"]) <= set(tool.parameters["properties"])


def test_tool_call_problems() -> None:
    assert problems(ToolCall("1", "take_message", {"message": "перезвоните", "urgent": True})) == []
    assert problems(ToolCall("1", "order_pizza", {})) == ["unknown tool 'order_pizza'"]
    assert problems(ToolCall("1", "transfer_call", {"reason": "x"})) == [
        "transfer_call: missing argument 'target'"
    ]
    assert problems(ToolCall("1", "take_message", {"message": 5, "mood": "ok"})) == [
        "take_message: 'message' should be a string",
        "take_message: unknown argument 'mood'",
    ]


def test_errors_read_well_inside_the_app_config() -> None:
    """As the app will hold it (`llm: LlmConfig | None` on Config): dotted keys, one per line."""
    from ari_app.config import Config, format_validation_error

    class ConfigWithLlm(Config):
        llm: LlmConfig | None = None

    data = {"ari": {"password": "x"}, "llm": {"providers": [{"kind": "openai"}]}}
    with pytest.raises(ValidationError) as info:
        ConfigWithLlm.model_validate(data)
    assert format_validation_error("s.yaml", info.value) == (
        "s.yaml: llm.providers[0].model: field required"
    )
    assert ConfigWithLlm.model_validate({"ari": {"password": "x"}}).llm is None
