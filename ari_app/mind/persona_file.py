"""Saving a persona from the console: checked first, the old file backed up, comments kept.

A persona file is the admin's: it has comments explaining each section. A save from the
console's forms sends the whole data mapping; it is merged into the file's YAML document
(ruamel.yaml's round trip), so the values that changed are replaced and every comment, key
order and quoting style around them stays. A save of the YAML text itself (the expert view)
is written as given. Either way nothing reaches the disk unless it is a valid persona, and
the problems name the field ("hours.sat", "staff[1].department").

The running app's `Personas` reloads a file whose stamp changed, so a saved persona is what
the next call is told. `version` (a hash of the text) guards against two editors: a save
based on a version that is no longer on disk is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ari_app.config import validation_problems
from ari_app.errors import ConfigError
from ari_app.mind.persona import _NAME_RE, Persona
from ari_app.yaml_edit import atomic_write, json_safe, merged_text
from ari_app.yaml_file import parse_yaml

BACKUP_DIR = ".backups"
KEEP_BACKUPS = 20
_PROBLEM_LINE = re.compile(r"^([A-Za-z_][\w.\[\]]*): (.+)$")


@dataclass(frozen=True)
class Problem:
    field: str  # dotted path ("hours.sat", "staff[1].department"), "yaml" or ""
    message: str


class PersonaInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" if p.field else p.message
                                   for p in problems))
        self.problems = problems


class PersonaChanged(Exception):
    """The file on disk is not the version the edit started from."""


class PersonaMissing(Exception):
    pass


@dataclass(frozen=True)
class PersonaDoc:
    name: str
    text: str
    data: dict[str, Any]  # the file's data, JSON-safe (dates as "YYYY-MM-DD")
    version: str


def version_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def problems_of(data: Any) -> list[Problem]:
    """Why `data` is not a valid persona (empty when it is one)."""
    if not isinstance(data, dict):
        return [Problem("", "expected a mapping of persona keys at the top level")]
    try:
        Persona.model_validate(data)
    except ValidationError as exc:
        problems = []
        for key, message in validation_problems(exc):
            for line in message.splitlines():  # the model's own checks: one per line
                match = _PROBLEM_LINE.match(line) if not key else None
                problems.append(Problem(match[1], match[2]) if match else Problem(key, line))
        return problems
    return []


class PersonaFiles:
    """The persona files in one directory, read and saved for the console."""

    def __init__(self, directory: Path, keep_backups: int = KEEP_BACKUPS,
                 clock: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory)
        self.keep_backups = keep_backups
        self.clock = clock

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.yaml") if _NAME_RE.match(p.stem))

    def path(self, name: str) -> Path:
        if not _NAME_RE.match(name):
            raise PersonaMissing(f"persona name {name!r}: only letters, digits, '-' and '_'")
        return self.directory / f"{name}.yaml"

    def read(self, name: str) -> PersonaDoc:
        path = self.path(name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PersonaMissing(f"no persona {name!r} in {self.directory}") from None
        try:
            data = parse_yaml(text, str(path))
        except ConfigError:
            data = None  # shown as text only: the expert view can mend it
        safe = json_safe(data) if isinstance(data, dict) else {}
        return PersonaDoc(name, text, safe, version_of(text))

    def save_text(self, name: str, text: str, version: str | None) -> PersonaDoc:
        """Write `text` as the persona if it is a valid one."""
        try:
            data = parse_yaml(text, "yaml")
        except ConfigError as exc:
            raise PersonaInvalid([Problem("yaml", str(exc).removeprefix("yaml: "))]) from None
        problems = problems_of(data)
        if problems:
            raise PersonaInvalid(problems)
        return self._write(name, text, version)

    def save_data(self, name: str, data: dict[str, Any], version: str | None) -> PersonaDoc:
        """Write the persona `data`, merged into the file's YAML so its comments stay."""
        problems = problems_of(data)
        if problems:
            raise PersonaInvalid(problems)
        current = self.read(name)
        try:
            text = merged_text(current.text, data)
        except RuntimeError as exc:
            raise RuntimeError(f"persona {name!r}: {exc}") from None
        return self._write(name, text, version)

    def _write(self, name: str, text: str, version: str | None) -> PersonaDoc:
        path = self.path(name)
        try:
            old = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PersonaMissing(f"no persona {name!r} in {self.directory}") from None
        if version is not None and version != version_of(old):
            raise PersonaChanged(f"persona {name!r} changed on disk since it was loaded; "
                                 "reload it and make the change again")
        if old != text:
            self._backup(name, old)
            atomic_write(path, text)
        return self.read(name)

    def _backup(self, name: str, text: str) -> None:
        folder = self.directory / BACKUP_DIR
        folder.mkdir(exist_ok=True)
        stamp = dt.datetime.fromtimestamp(self.clock(), dt.UTC).strftime("%Y%m%dT%H%M%S_%fZ")
        atomic_write(folder / f"{name}.{stamp}.yaml", text)
        kept = sorted(folder.glob(f"{name}.*.yaml"))
        for stale in kept[: max(0, len(kept) - self.keep_backups)]:
            stale.unlink(missing_ok=True)

    def backups(self, name: str) -> list[Path]:
        return sorted((self.directory / BACKUP_DIR).glob(f"{name}.*.yaml"))
