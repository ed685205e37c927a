"""The secretary's persona: who she works for and everything she may say, per language.

A persona is a YAML file (config/personas/<name>.yaml): company, address, hours with time
zone, holidays and short days, services and prices, FAQ, tone, greetings, the staff
directory and the transfer rules. It is validated when loaded; an error names the file
and the key path ("config/personas/x.yaml: staff[1].role.en: missing ..."). `Personas`
loads them by name and reloads a file when it changes on disk.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ari_app.config import format_validation_error
from ari_app.errors import ConfigError
from ari_app.mind.calendar import BusinessCalendar, Holiday, ShortDay, Week
from ari_app.mind.directory import Department, StaffMember, TransferRules
from ari_app.mind.facts import FaqEntry, Service
from ari_app.mind.phrases import override_problems
from ari_app.mind.texts import Texts, missing_languages
from ari_app.mind.words import time_words
from ari_app.yaml_file import read_yaml

__all__ = ["SUPPORTED_LANGUAGES", "Persona", "Personas", "Tone", "load_persona", "time_words"]

log = logging.getLogger(__name__)

SUPPORTED_LANGUAGES = ("ru", "en")
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")


class Tone(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    formality: Literal["formal", "friendly"] = "formal"
    # short: answer just what was asked; full: add the context (the whole week after a
    # closed day, "anything else?" after an answer)
    length: Literal["short", "full"] = "full"


class Persona(BaseModel):
    """Every caller-facing text is a mapping language -> text with all `languages`."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    languages: list[str]
    company: Texts
    secretary_name: Texts
    address: Texts = Field(default_factory=dict)
    about: Texts = Field(default_factory=dict)  # what the company does, one or two sentences
    time_zone: str = "Europe/Moscow"
    tone: Tone = Field(default_factory=Tone)
    greeting: Texts
    greeting_off_hours: Texts = Field(default_factory=dict)  # default: `greeting`
    hours_reply: Texts = Field(
        default_factory=lambda: {"ru": "Мы работаем {hours}.", "en": "We are open {hours}."}
    )
    goodbye: Texts
    not_understood: Texts
    reprompt: Texts = Field(
        default_factory=lambda: {
            "ru": "Алло! Вы меня слышите?", "en": "Hello? Are you still there?"
        }
    )
    hours: Week
    holidays: list[Holiday] = Field(default_factory=list)
    short_days: list[ShortDay] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    faq: list[FaqEntry] = Field(default_factory=list)
    departments: dict[str, Department] = Field(default_factory=dict)
    staff: list[StaffMember] = Field(default_factory=list)
    transfer: TransferRules = Field(default_factory=TransferRules)
    phrases: dict[str, Texts] = Field(default_factory=dict)  # overrides of the stock phrases

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one language is needed")
        for lang in value:
            if lang not in SUPPORTED_LANGUAGES:
                raise ValueError(
                    f"unsupported language {lang!r} (supported: {', '.join(SUPPORTED_LANGUAGES)})"
                )
        if len(set(value)) != len(value):
            raise ValueError("a language is listed twice")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Moscow)") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Persona:
        langs = tuple(self.languages)
        problems = missing_languages(self, langs)
        for lang, text in self.hours_reply.items():
            if "{hours}" not in text:
                problems.append(f"hours_reply.{lang}: must contain the placeholder {{hours}}")
        problems += override_problems(self.phrases)
        ids = [m.id for m in self.staff]
        for i, member in enumerate(self.staff):
            if ids.count(member.id) > 1:
                problems.append(f"staff[{i}].id: {member.id!r} is used twice")
            if member.department is not None and member.department not in self.departments:
                problems.append(f"staff[{i}].department: {member.department!r} is not one of "
                                f"departments ({', '.join(self.departments) or 'none'})")
            if member.language is not None and member.language not in langs:
                problems.append(f"staff[{i}].language: not one of the persona's languages")
        known = set(ids) | set(self.departments)
        for i, key in enumerate(self.transfer.allow or []):
            if key not in known:
                problems.append(f"transfer.allow[{i}]: {key!r} is neither a staff id nor a "
                                "department")
        if self.transfer.general is not None and self.transfer.general not in known:
            problems.append(f"transfer.general: {self.transfer.general!r} is neither a staff "
                            "id nor a department")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # --- derived --------------------------------------------------------------------------
    # plain properties, not cached: a model_copy(update=...) must not keep a stale calendar
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)  # zoneinfo caches zones itself

    @property
    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(self.hours, tuple(self.holidays), tuple(self.short_days),
                                self.tz)

    def now(self) -> dt.datetime:
        """The current time in the company's time zone."""
        return dt.datetime.now(self.tz)

    def text(self, field: str, lang: str) -> str:
        """One of the per-language texts, e.g. text("goodbye", "ru")."""
        texts = getattr(self, field)
        if not isinstance(texts, dict) or lang not in texts:
            raise ValueError(f"persona has no {field} in language {lang!r}")
        return str(texts[lang])

    def hours_sentence(self, lang: str) -> str:
        """The weekly hours as spoken words: "с понедельника по четверг с девяти до
        восемнадцати, в пятницу с девяти до семнадцати, в субботу и воскресенье выходной"."""
        if lang not in SUPPORTED_LANGUAGES:
            raise ValueError(f"no hours sentence for language {lang!r}")
        return self.hours.sentence(lang)

    def hours_reply_text(self, lang: str) -> str:
        """The full answer to an hours question, e.g. "Мы работаем с понедельника ..."."""
        return self.text("hours_reply", lang).replace("{hours}", self.hours_sentence(lang))


def load_persona(path: Path) -> Persona:
    """Read and validate a persona YAML; errors are ConfigError naming the file and key."""
    source = str(path)
    data = read_yaml(path, "cannot read persona")
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    try:
        return Persona.model_validate(data)
    except ValidationError as exc:
        lines = format_validation_error(source, exc).splitlines()
        prefix = f"{source}: "
        raise ConfigError(
            "\n".join(line if line.startswith(prefix) else prefix + line for line in lines)
        ) from None


@dataclass
class _Loaded:
    stamp: tuple[int, int, int]  # (mtime_ns, size, inode) of the file it came from
    persona: Persona


class Personas:
    """Personas by name from one directory, reloaded when their file changes.

    Called as `personas(name)` once per call. A file that changed is validated again; if
    it is now broken, the last good version keeps serving (the error is logged once per
    change) so that a typo saved mid-edit does not take the line down.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._cache: dict[str, _Loaded] = {}
        self._bad: dict[str, tuple[int, int, int]] = {}  # name -> stamp of a broken version

    def path(self, name: str) -> Path:
        if not _NAME_RE.match(name):
            raise ConfigError(f"persona name {name!r}: only letters, digits, '-' and '_'")
        return self.directory / f"{name}.yaml"

    def __call__(self, name: str) -> Persona:
        path = self.path(name)
        try:
            st = path.stat()
        except OSError as exc:
            cached = self._cache.get(name)
            if cached is not None:
                log.error("%s: %s; keeping the persona loaded before", path, exc.strerror)
                return cached.persona
            raise ConfigError(f"{path}: cannot read persona: {exc.strerror or exc}") from None
        # the inode too: a file replaced by a rename (the console's saves, most editors) is
        # seen even when its size and time stamp (coarse on some file systems) match
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._cache.get(name)
        if cached is not None and cached.stamp == stamp:
            return cached.persona
        if cached is not None and self._bad.get(name) == stamp:
            return cached.persona
        try:
            persona = load_persona(path)
        except ConfigError as exc:
            if cached is None:
                raise
            self._bad[name] = stamp
            log.error("persona %r changed but is invalid; keeping the previous one:\n%s",
                      name, exc)
            return cached.persona
        if cached is not None:
            log.info("persona %r reloaded from %s", name, path)
        self._cache[name] = _Loaded(stamp, persona)
        self._bad.pop(name, None)
        return persona

