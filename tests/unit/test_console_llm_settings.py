"""Settings for the language models: the providers read and saved in the admin's config
(comments kept, checked as at start, backed up), keys written to the secrets file and never
read back, and a provider's test measuring its first token (a fake provider over httpx)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest
from console_fixtures import console, login

from ari_app.config import load_config
from ari_app.console.auth import CSRF_HEADER
from ari_app.console.llm_settings import LlmSettings, SettingsChanged, SettingsInvalid

REPO = Path(__file__).resolve().parents[2]
ENV = {"SECRETARY_ARI_PASSWORD": "ari-pass", "ANTHROPIC_API_KEY": "sk-ant-env-777"}
SSE = ('data: {"choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": null}]}'
       '\n\ndata: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\n\n'
       "data: [DONE]\n\n")


def config_file(tmp_path: Path) -> Path:
    text = (REPO / "config" / "secretary.example.yaml").read_text(encoding="utf-8")
    text = text.replace("llm:\n  filler_after_s: 0.7\n",
                        f"llm:\n  secrets_file: {tmp_path / 'secrets.yaml'}\n"
                        "  filler_after_s: 0.7\n", 1)
    text = text.replace("      api_key_env: GEMINI_API_KEY\n",
                        "      api_key_secret: gemini\n", 1)
    path = tmp_path / "secretary.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def fake_llm(status: int = 200) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text=SSE if status == 200 else '{"error": "no"}',
                              headers={"content-type": "text/event-stream"})
    return httpx.MockTransport(answer)


def test_read_says_whether_a_key_is_set_never_the_key(tmp_path: Path) -> None:
    settings = LlmSettings(config_file(tmp_path), env=ENV)
    got = settings.read()
    assert [p["kind"] for p in got["providers"]] == ["openai", "gemini", "anthropic"]
    assert [p["key_set"] for p in got["providers"]] == [None, False, True]
    settings.set_secret("gemini", "AIza-secret-gem")
    again = settings.read()
    assert [p["key_set"] for p in again["providers"]] == [None, True, True]
    assert "AIza-secret-gem" not in json.dumps(again) and "sk-ant" not in json.dumps(again)
    secrets = tmp_path / "secrets.yaml"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    settings.set_secret("other", "second-key")
    assert "AIza-secret-gem" in secrets.read_text() and "second-key" in secrets.read_text()


def test_save_reorders_keeps_comments_and_checks(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    before = path.read_text(encoding="utf-8")
    settings = LlmSettings(path, env=ENV)
    got = settings.read()
    local, _gemini, anthropic = got["providers"]
    saved = settings.save([anthropic, local], got["version"])
    assert [p["kind"] for p in saved["providers"]] == ["anthropic", "openai"]
    assert saved["restart_needed"] is True
    after = path.read_text(encoding="utf-8")
    assert "# Optional: a language model answers" in after  # the admin's comments
    assert "# A message a caller leaves goes to the staff" in after
    assert "key_set" not in after and "label" not in after
    assert (tmp_path / "secretary.yaml.bak").read_text(encoding="utf-8") == before
    with pytest.raises(SettingsChanged):
        settings.save([local], got["version"])
    with pytest.raises(SettingsInvalid) as caught:
        settings.save([{**local, "kind": "telepathy"}], saved["version"])
    assert "llm.providers[0].kind" in {p.field for p in caught.value.problems}
    with pytest.raises(SettingsInvalid):
        settings.save([local, {**local}], saved["version"])  # the same name twice
    assert path.read_text(encoding="utf-8") == after


async def test_a_provider_test_measures_its_first_token(tmp_path: Path) -> None:
    good = LlmSettings(config_file(tmp_path), env=ENV, transport=fake_llm())
    result = await good.test(0)
    assert result.ok and result.reply == "Hi" and result.provider == "local"
    assert result.first_token_ms is not None and result.total_ms is not None
    assert result.first_token_ms <= result.total_ms
    failing = await LlmSettings(config_file(tmp_path), env=ENV, transport=fake_llm(500)).test(2)
    assert not failing.ok and failing.error and "sk-ant-env-777" not in failing.error
    unkeyed = await LlmSettings(config_file(tmp_path), env=ENV, transport=fake_llm()).test(1)
    assert not unkeyed.ok and "gemini" in unkeyed.error  # no key in the secrets file yet
    with pytest.raises(SettingsInvalid):
        await good.test(7)


async def test_the_settings_api_is_admins_only_and_never_returns_keys(tmp_path: Path) -> None:
    settings = LlmSettings(config_file(tmp_path), env=ENV, transport=fake_llm())
    async with console(tmp_path, settings) as c, c.client() as admin, c.client() as rita:
        assert (await admin.get("/api/settings/llm")).status_code == 401
        await login(rita, "rita")
        assert (await rita.get("/api/settings/llm")).status_code == 403
        headers = {CSRF_HEADER: await login(admin, "root")}
        put = await admin.put("/api/settings/secrets/gemini", headers=headers,
                              json={"value": "AIza-very-secret"})
        assert put.status_code == 204
        got = await admin.get("/api/settings/llm")
        assert got.status_code == 200 and "AIza-very-secret" not in got.text
        assert got.json()["providers"][1]["key_set"] is True
        tested = await admin.post("/api/settings/llm/0/test", headers=headers)
        assert tested.json()["ok"] is True
        body = {"providers": got.json()["providers"][::-1], "version": got.json()["version"]}
        saved = await admin.put("/api/settings/llm", headers=headers, json=body)
        assert saved.status_code == 200, saved.text
        assert [p["kind"] for p in saved.json()["providers"]] == ["anthropic", "gemini", "openai"]
        stale = await admin.put("/api/settings/llm", headers=headers, json=body)
        assert stale.status_code == 409
        audit = [(a["what"], a["details"]) for a in await c.users.audit_log(10)]
        assert ("secret_set", {"name": "gemini"}) in audit
        assert all("AIza" not in json.dumps(a) for a in audit)


def test_a_reload_says_a_restart_is_needed_until_the_file_is_what_runs(tmp_path: Path) -> None:
    """The notice outlives the page: compared with the `llm:` the app started with."""
    path = config_file(tmp_path)
    started = load_config(path, env=ENV).llm
    settings = LlmSettings(path, env=ENV, running=started)
    got = settings.read()
    assert got["restart_needed"] is False
    local, gemini, anthropic = got["providers"]
    saved = settings.save([anthropic, local, gemini], got["version"])
    assert saved["restart_needed"] is True
    assert LlmSettings(path, env=ENV, running=started).read()["restart_needed"] is True
    back = settings.save([local, gemini, anthropic], saved["version"])  # as it runs again
    assert back["restart_needed"] is False
    unknown = LlmSettings(path, env=ENV).read()  # no running app to compare with
    assert unknown["restart_needed"] is None
