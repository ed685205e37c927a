"""The `llm:` section of the secretary's config (pydantic, frozen, unknown keys rejected).

```yaml
llm:
  secrets_file: config/secrets.yaml   # optional; mode 0600
  filler_after_s: 0.7
  providers:                          # tried in this order
    - kind: openai                    # OpenAI, vLLM, DeepSeek, OpenRouter, llama.cpp server
      name: local
      base_url: http://127.0.0.1:8081/v1
      model: smollm2
    - kind: gemini
      model: gemini-2.0-flash
      api_key_env: GEMINI_API_KEY
```

Self-contained on purpose: ari_app/config.py imports `LlmConfig` from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

ProviderKind = Literal["openai", "gemini", "anthropic"]

DEFAULT_BASE_URLS: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "gemini": "https://generativelanguage.googleapis.com/v1beta",
    "anthropic": "https://api.anthropic.com/v1",
}


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


def _absolute(path: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else Path.cwd() / path


def _default_fillers() -> dict[str, tuple[str, ...]]:
    return {
        "ru": ("Одну секунду...", "Сейчас посмотрю..."),
        "en": ("One moment...", "Let me check..."),
    }


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProviderConfig(_Section):
    kind: ProviderKind
    model: Annotated[str, Field(min_length=1)]
    name: str = ""  # for logs and the call record; default "<kind>:<model>"
    base_url: Annotated[str, AfterValidator(_http_url)] | None = None  # default per kind
    api_key_env: str | None = None  # environment variable holding the key
    api_key_secret: str | None = None  # name of the key in llm.secrets_file
    # measured on the packaged SmolLM2 via llama.cpp here: first token 0.25-0.87 s
    first_token_timeout_s: float = Field(default=2.5, gt=0)
    total_timeout_s: float = Field(default=20.0, gt=0)
    temperature: float = Field(default=0.3, ge=0, le=2)
    max_tokens: int = Field(default=200, gt=0)
    # send the system prompt once at start so the server's prompt cache holds it; None:
    # only for a server on this machine (loopback base_url), which costs nothing per request
    warm_up: bool | None = None

    @property
    def label(self) -> str:
        return self.name or f"{self.kind}:{self.model}"

    @property
    def url(self) -> str:
        return self.base_url or DEFAULT_BASE_URLS[self.kind]

    @property
    def warms_up(self) -> bool:
        if self.warm_up is not None:
            return self.warm_up
        host = urlsplit(self.url).hostname or ""
        return host == "localhost" or host == "::1" or host.startswith("127.")

    @model_validator(mode="after")
    def _timeouts(self) -> ProviderConfig:
        if self.total_timeout_s < self.first_token_timeout_s:
            raise ValueError("total_timeout_s must not be shorter than first_token_timeout_s")
        return self


class LlmConfig(_Section):
    providers: list[ProviderConfig] = Field(min_length=1)
    secrets_file: Annotated[Path, AfterValidator(_absolute)] | None = None
    # a filler phrase is said when no token has come this long after the turn started;
    # below ~1 s a caller does not yet hear the pause as dead air
    filler_after_s: float = Field(default=0.7, gt=0)
    filler: dict[str, tuple[str, ...]] = Field(default_factory=_default_fillers)

    @model_validator(mode="after")
    def _unique_names(self) -> LlmConfig:
        seen: set[str] = set()
        for i, provider in enumerate(self.providers):
            if provider.label in seen:
                raise ValueError(
                    f"providers[{i}]: name {provider.label!r} is used twice; give it a name"
                )
            seen.add(provider.label)
        for lang, phrases in self.filler.items():
            if not phrases or not all(p.strip() for p in phrases):
                raise ValueError(f"filler.{lang}: needs at least one non-empty phrase")
        return self
