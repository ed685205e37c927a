"""Secrets from a `.env` file: API keys and passwords kept out of the YAML config.

`secretary` reads the file named by `SECRETARY_ENV_FILE`, or else `.env` in the working
directory when there is one, before anything else. Each line is `NAME=value` (`export
NAME=value`, quotes and `#` comments allowed, as a shell would write it). A variable already
in the environment wins: systemd's `EnvironmentFile=` and an admin's `export` override the
file. Values are taken as written: `$HOME` stays `$HOME` (a key may hold a `$`).

A line that is not `NAME=value` is a configuration error naming the file and the line (exit
code 2), never skipped in silence: a secret the admin thinks is set would be missing.
"""

from __future__ import annotations

import io
import os
from collections.abc import MutableMapping
from pathlib import Path

from dotenv.parser import parse_stream

from ari_app.errors import ConfigError

ENV_FILE_VARIABLE = "SECRETARY_ENV_FILE"
DEFAULT_ENV_FILE = ".env"


def read_env_file(path: Path) -> dict[str, str]:
    """The variables the file sets, in order; ConfigError for a line that sets none."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the environment file: {exc}") from exc
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.line
        if binding.error:
            first = binding.original.string.strip().splitlines()[0][:60]
            raise ConfigError(f"{path}, line {line}: not NAME=value: {first!r}")
        if binding.key is None:  # a blank line or a comment
            continue
        if binding.value is None:
            raise ConfigError(f"{path}, line {line}: {binding.key} has no '=' and no value")
        values[binding.key] = binding.value
    return values


def load_env_file(
    environ: MutableMapping[str, str] | None = None, cwd: Path | None = None
) -> Path | None:
    """Put the env file's variables into `environ` (default os.environ) where they are not
    set yet. Returns the file read, or None when there is none to read. A file named by
    SECRETARY_ENV_FILE must exist."""
    env = os.environ if environ is None else environ
    named = env.get(ENV_FILE_VARIABLE, "").strip()
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"{ENV_FILE_VARIABLE}={named}: no such file")
    else:
        path = (cwd or Path.cwd()) / DEFAULT_ENV_FILE
        if not path.is_file():
            return None
    for name, value in read_env_file(path).items():
        env.setdefault(name, value)
    return path

