"""The console's Settings for the language models: the `llm:` providers in the config file,
their keys in the secrets file, and a test of one provider's time to first token.

The config is the admin's file: a save rewrites only the `llm:` values that changed (their
comments stay, yaml_edit.py), after the whole config with the new section has passed the
same checks as at start, and the old file is backed up beside it. Keys go only into
`llm.secrets_file` (mode 0600) and never come back out: a provider says whether its key is
set, not what it is. The running app builds its model chain at start: a save says so
(`restart_needed`), and so does every read while the file's `llm:` is not what runs (given
`running`, the section the app started with).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from ari_app.config import parse_config, validation_problems
from ari_app.errors import ConfigError, SecretaryError
from ari_app.llm.base import Done, Message, TextDelta
from ari_app.llm.config import LlmConfig, ProviderConfig
from ari_app.llm.factory import build_provider
from ari_app.llm.secrets import Secret, load_secrets_file, resolve_key
from ari_app.mind.persona_file import Problem
from ari_app.yaml_edit import atomic_write, json_safe, merged_text
from ari_app.yaml_file import parse_yaml

BACKUP_SUFFIX = ".bak"
TEST_PROMPT = (Message("system", "Reply with one short word."), Message("user", "Hello!"))


class SettingsInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


class SettingsChanged(Exception):
    """The config file is not the version the edit started from."""


@dataclass(frozen=True)
class ProviderTest:
    ok: bool
    provider: str
    first_token_ms: float | None = None
    total_ms: float | None = None
    reply: str = ""
    error: str = ""


def version_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class _Unknown:
    """No running app to compare with (a console without one, a test)."""


UNKNOWN = _Unknown()


class LlmSettings:
    def __init__(self, config_path: Path, env: Mapping[str, str] | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], float] = time.time,
                 running: LlmConfig | _Unknown | None = UNKNOWN) -> None:
        self.config_path = Path(config_path)
        self.running = running  # the `llm:` the app started with (None: none)
        self.env = os.environ if env is None else env
        self.transport = transport  # tests: a fake provider
        self.clock = clock

    # --- reading ----------------------------------------------------------------------------
    def _text(self) -> str:
        try:
            return self.config_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{self.config_path}: cannot read: {exc.strerror or exc}") from None

    def _data(self, text: str) -> dict[str, Any]:
        data = parse_yaml(text, str(self.config_path))
        if not isinstance(data, dict):
            raise ConfigError(f"{self.config_path}: expected a mapping at the top level")
        return data

    def _llm(self, data: dict[str, Any]) -> LlmConfig | None:
        section = data.get("llm")
        if section is None:
            return None
        return parse_config(data, str(self.config_path), self.env).llm

    def read(self) -> dict[str, Any]:
        """The `llm:` section as the file has it, each provider with `key_set`; no keys."""
        text = self._text()
        data = self._data(text)
        section = data.get("llm") or {}
        llm = self._llm(data)
        secrets = self._secret_names(llm)
        providers = []
        for i, raw in enumerate(section.get("providers") or []):
            entry = json_safe(dict(raw)) if isinstance(raw, dict) else {}
            config = llm.providers[i] if llm is not None and i < len(llm.providers) else None
            entry["key_set"] = self._key_set(config, secrets)
            entry["label"] = config.label if config is not None else ""
            providers.append(entry)
        return {
            "configured": llm is not None,
            "providers": providers,
            "secrets_file": str(llm.secrets_file) if llm and llm.secrets_file else None,
            "filler_after_s": llm.filler_after_s if llm else None,
            "version": version_of(text),
            # None: no running app to compare with
            "restart_needed": None if isinstance(self.running, _Unknown) else llm != self.running,
        }

    def _secret_names(self, llm: LlmConfig | None) -> set[str]:
        if llm is None or llm.secrets_file is None or not llm.secrets_file.exists():
            return set()
        try:
            return set(load_secrets_file(llm.secrets_file))
        except ConfigError:
            return set()

    def _key_set(self, config: ProviderConfig | None, secrets: set[str]) -> bool | None:
        """True/False for a provider that names a key; None for one that needs none."""
        if config is None or not (config.api_key_env or config.api_key_secret):
            return None
        if config.api_key_env and self.env.get(config.api_key_env, "").strip():
            return True
        return bool(config.api_key_secret and config.api_key_secret in secrets)

    # --- saving -----------------------------------------------------------------------------
    def save(self, providers: list[dict[str, Any]], version: str | None,
             filler_after_s: float | None = None) -> dict[str, Any]:
        """Write the providers (in the order given) into `llm:`; checked as at start."""
        text = self._text()
        if version is not None and version != version_of(text):
            raise SettingsChanged(f"{self.config_path} changed since it was read; reload")
        data = self._data(text)
        section = dict(data.get("llm") or {})
        section["providers"] = [{k: v for k, v in p.items() if k not in ("key_set", "label")}
                                for p in providers]
        if filler_after_s is not None:
            section["filler_after_s"] = filler_after_s
        data["llm"] = section
        self._check(data)
        new = merged_text(text, data)
        if new != text:
            atomic_write(self.config_path.with_name(self.config_path.name + BACKUP_SUFFIX), text)
            atomic_write(self.config_path, new)
        after = self.read()
        return {**after, "restart_needed": after["restart_needed"] is not False}

    def _check(self, data: dict[str, Any]) -> None:
        try:
            LlmConfig.model_validate(data["llm"])
        except ValidationError as exc:
            raise SettingsInvalid([Problem(f"llm.{key}" if key else "llm", message)
                                   for key, message in validation_problems(exc)]) from None
        try:
            parse_config(data, str(self.config_path), self.env)
        except ConfigError as exc:
            raise SettingsInvalid([Problem("", str(exc))]) from None

    def set_secret(self, name: str, value: str) -> None:
        """Store a key in `llm.secrets_file` (made with mode 0600 when new)."""
        if not name.strip() or not value.strip():
            raise SettingsInvalid([Problem("value", "a key name and a key are needed")])
        llm = self._llm(self._data(self._text()))
        if llm is None or llm.secrets_file is None:
            raise SettingsInvalid([Problem("llm.secrets_file",
                                           "set llm.secrets_file in the config first")])
        path = llm.secrets_file
        keys = {k: v.reveal() for k, v in load_secrets_file(path).items()} \
            if path.exists() else {}
        keys[name.strip()] = value.strip()
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        atomic_write(path, merged_text(old, keys))  # a new file is 0600 (mkstemp)
        os.chmod(path, 0o600)

    # --- testing ----------------------------------------------------------------------------
    async def test(self, index: int) -> ProviderTest:
        """Ask provider `index` for a one-word reply: its time to the first text."""
        llm = self._llm(self._data(self._text()))
        if llm is None or not 0 <= index < len(llm.providers):
            raise SettingsInvalid([Problem("provider", f"no provider {index} in llm.providers")])
        config = llm.providers[index]
        secrets = load_secrets_file(llm.secrets_file) if llm.secrets_file and \
            llm.secrets_file.exists() else None
        started = time.monotonic()
        first: float | None = None
        reply = ""
        key: Secret | None = None
        try:
            key = resolve_key(where=f"llm.providers[{index}]", env_name=config.api_key_env,
                              secret_name=config.api_key_secret, secrets=secrets, env=self.env)
            provider = build_provider(config, key, self.transport)
            try:
                async for event in provider.stream(list(TEST_PROMPT)):
                    if isinstance(event, TextDelta) and event.text:
                        first = first if first is not None else time.monotonic()
                        reply += event.text
                    if isinstance(event, Done) or time.monotonic() - started > \
                            config.total_timeout_s:
                        break
            finally:
                await provider.aclose()
        except (SecretaryError, httpx.HTTPError, OSError) as exc:
            text = str(exc) if key is None else key.scrub(str(exc))
            return ProviderTest(False, config.label, error=text or type(exc).__name__)
        total = (time.monotonic() - started) * 1000
        if first is None:
            return ProviderTest(False, config.label, total_ms=round(total),
                                error="no text came back")
        return ProviderTest(True, config.label, round((first - started) * 1000),
                            round(total), reply.strip()[:200])

