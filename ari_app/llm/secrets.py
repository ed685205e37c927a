"""API keys: read from an environment variable or a secrets YAML file, never shown.

A `Secret` prints as `Secret('***')` in reprs, f-strings and logs; only `reveal()` gives the
key, and adapters call it in exactly one place, when they set the request header. Text that
might echo a key back (an error body from a provider) goes through `scrub()` first.

The secrets file is a YAML mapping `name: key`; it must not be readable by group or others
(mode 0600), as ssh does for private keys.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

import yaml

from ari_app.errors import ConfigError
from ari_app.yaml_file import AdminLoader

MASK = "***"


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value:
            raise ValueError("a secret must not be empty")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def scrub(self, text: str) -> str:
        """`text` with every occurrence of the key replaced by ***."""
        return text.replace(self._value, MASK)

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret is not picklable")


def load_secrets_file(path: Path) -> dict[str, Secret]:
    """The keys in `path`; ConfigError naming the file if it is unsafe or malformed."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the secrets file: {exc.strerror or exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path}: the secrets file is readable by others (mode {stat.S_IMODE(mode):04o}); "
            f"run: chmod 600 {path}"
        )
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=AdminLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        # the YAML error may quote a line of the file, i.e. a key: name only the type
        raise ConfigError(
            f"{path}: cannot parse the secrets file ({type(exc).__name__})"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of name: key")
    out: dict[str, Secret] = {}
    for name, value in data.items():
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: {name}: expected a non-empty string")
        out[str(name)] = Secret(value.strip())
    return out


def resolve_key(
    *,
    where: str,
    env_name: str | None,
    secret_name: str | None,
    secrets: Mapping[str, Secret] | None,
    env: Mapping[str, str] | None = None,
) -> Secret | None:
    """The key for one provider: the environment variable wins over the secrets file.

    `where` names the config key (e.g. `llm.providers[1]`) for the error messages. None when
    the provider is configured without a key (a local server).
    """
    environ = os.environ if env is None else env
    if env_name:
        value = environ.get(env_name, "").strip()
        if value:
            return Secret(value)
    if secret_name:
        if secrets is None:
            raise ConfigError(
                f"{where}.api_key_secret: {secret_name!r} is named but llm.secrets_file is not set"
            )
        if secret_name in secrets:
            return secrets[secret_name]
    if env_name or secret_name:
        sources = []
        if env_name:
            sources.append(f"environment variable {env_name} is not set")
        if secret_name:
            sources.append(f"the secrets file has no {secret_name!r}")
        raise ConfigError(f"{where}: no API key: " + "; ".join(sources))
    return None
