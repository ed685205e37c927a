"""Builds the fallback chain from the `llm:` config section: keys resolved, adapters made."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from ari_app.errors import ConfigError
from ari_app.llm.anthropic import AnthropicProvider
from ari_app.llm.base import LlmProvider
from ari_app.llm.chain import FallbackChain, Link
from ari_app.llm.config import LlmConfig, ProviderConfig
from ari_app.llm.gemini import GeminiProvider
from ari_app.llm.openai_compat import OpenAICompatProvider
from ari_app.llm.secrets import Secret, load_secrets_file, resolve_key


def build_provider(
    config: ProviderConfig,
    api_key: Secret | None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> LlmProvider:
    if config.kind == "openai":
        return OpenAICompatProvider(config, api_key, transport)
    if config.kind == "gemini":
        return GeminiProvider(config, api_key, transport)
    return AnthropicProvider(config, api_key, transport)


def build_chain(
    config: LlmConfig, default_language: str = "ru", env: Mapping[str, str] | None = None
) -> FallbackChain:
    """ConfigError (naming `llm.providers[i]` or the secrets file) when a key is missing."""
    secrets = load_secrets_file(config.secrets_file) if config.secrets_file else None
    links = []
    for i, provider in enumerate(config.providers):
        key = resolve_key(
            where=f"llm.providers[{i}]",
            env_name=provider.api_key_env,
            secret_name=provider.api_key_secret,
            secrets=secrets,
            env=env,
        )
        if key is None and provider.base_url is None:
            raise ConfigError(
                f"llm.providers[{i}]: {provider.kind} at {provider.url} needs a key: set "
                "api_key_env (an environment variable) or api_key_secret (llm.secrets_file)"
            )
        links.append(
            Link(
                build_provider(provider, key),
                provider.first_token_timeout_s,
                provider.total_timeout_s,
                provider.warms_up,
            )
        )
    return FallbackChain(links, config.filler, config.filler_after_s, default_language)
