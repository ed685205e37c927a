"""API keys: masked everywhere, read from env or a 0600 file, never in errors or logs."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from ari_app.errors import ConfigError
from ari_app.llm.base import LlmUnavailable, Message
from ari_app.llm.chain import FallbackChain, Link
from ari_app.llm.config import LlmConfig, ProviderConfig
from ari_app.llm.factory import build_chain, build_provider
from ari_app.llm.secrets import Secret, load_secrets_file, resolve_key

KEY = "sk-live-SECRET-0123456789abcdef"


def test_secret_is_masked() -> None:
    secret = Secret(KEY)
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret])):
        assert KEY not in shown and "***" in shown
    assert secret.reveal() == KEY
    assert secret.scrub(f"Authorization: Bearer {KEY}.") == "Authorization: Bearer ***."


def test_secrets_file_must_be_private(tmp_path: Path) -> None:
    path = tmp_path / "secrets.yaml"
    path.write_text(f"openai: {KEY}\n")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match=r"readable by others \(mode 0644\); run: chmod 600"):
        load_secrets_file(path)
    path.chmod(0o600)
    assert load_secrets_file(path) == {"openai": Secret(KEY)}


def test_secrets_file_errors_never_quote_the_file(tmp_path: Path) -> None:
    path = tmp_path / "secrets.yaml"
    path.write_text(f"openai: [{KEY}\n")  # broken YAML around a key
    path.chmod(0o600)
    with pytest.raises(ConfigError) as info:
        load_secrets_file(path)
    assert KEY not in str(info.value) and str(path) in str(info.value)
    with pytest.raises(ConfigError, match="cannot read"):
        load_secrets_file(tmp_path / "missing.yaml")


def test_resolve_key_order_and_errors() -> None:
    secrets = {"gem": Secret("from-file")}
    got = resolve_key(where="llm.providers[0]", env_name="GEM_KEY", secret_name="gem",
                      secrets=secrets, env={"GEM_KEY": "from-env"})  # fmt: skip
    assert got == Secret("from-env")
    got = resolve_key(where="llm.providers[0]", env_name="GEM_KEY", secret_name="gem",
                      secrets=secrets, env={})  # fmt: skip
    assert got == Secret("from-file")
    with pytest.raises(ConfigError, match=r"llm.providers\[2\]: no API key: environment "
                                          "variable GEM_KEY is not set"):
        resolve_key(where="llm.providers[2]", env_name="GEM_KEY", secret_name=None,
                    secrets=None, env={})  # fmt: skip
    with pytest.raises(ConfigError, match=r"llm\.secrets_file is not set"):
        resolve_key(where="llm.providers[0]", env_name=None, secret_name="gem", secrets=None,
                    env={})  # fmt: skip
    assert resolve_key(where="x", env_name=None, secret_name=None, secrets=None) is None


def test_cloud_provider_without_key_is_a_config_error() -> None:
    config = LlmConfig(providers=[ProviderConfig(kind="gemini", model="g")])
    with pytest.raises(ConfigError, match=r"llm.providers\[0\]: gemini at .* needs a key"):
        build_chain(config, env={})
    local = LlmConfig(providers=[ProviderConfig(kind="openai", model="m",
                                                base_url="http://127.0.0.1:9/v1")])
    assert build_chain(local, env={}).links[0].provider.name == "openai:m"


@pytest.mark.parametrize("kind", ["openai", "gemini", "anthropic"])
async def test_failing_provider_never_shows_the_key(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A proxy that echoes the request headers in its 401 body, and a transport error whose
    text carries the key: neither the error, the attempts nor any log line may show it."""

    def echo_headers(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text=f"bad credentials: {dict(request.headers)}")

    def broken_transport(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused while sending {dict(request.headers)}")

    config = ProviderConfig(kind=kind, model="m", base_url="http://llm.test/v1")  # type: ignore[arg-type]
    links = [
        Link(build_provider(config.model_copy(update={"name": f"echo-{kind}"}), Secret(KEY),
                            httpx.MockTransport(echo_headers)), 1.0, 2.0),
        Link(build_provider(config.model_copy(update={"name": f"broken-{kind}"}), Secret(KEY),
                            httpx.MockTransport(broken_transport)), 1.0, 2.0),
    ]  # fmt: skip
    chain = FallbackChain(links, {"en": ("One moment...",)}, 5.0, "en")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(LlmUnavailable) as info:
        _ = [e async for e in chain.stream([Message("user", "hi")])]
    await chain.aclose()
    message = str(info.value)
    assert "HTTP 401" in message and "refused while sending" in message  # the real reasons
    assert "***" in message  # the echoed key was there, and was masked
    assert KEY not in message
    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert KEY not in str(record.exc_info or "")
