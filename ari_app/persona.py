"""The secretary's persona: company, name, phrases and business hours, per language.

A persona is a YAML file (config/personas/<name>.yaml). Everything the secretary says
comes from it; the hours sentence is rendered from the hours data with the numbers
spelled out as words, because TTS engines and Whisper both handle words better.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from ari_app.config import format_validation_error
from ari_app.errors import ConfigError

SUPPORTED_LANGUAGES = ("ru", "en")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

# --- numbers as words --------------------------------------------------------------------

# Russian hours in the genitive case, as they follow "с" / "до" ("с девяти до восемнадцати").
_RU_GENITIVE = (
    "ноля", "одного", "двух", "трёх", "четырёх", "пяти", "шести", "семи", "восьми", "девяти",
    "десяти", "одиннадцати", "двенадцати", "тринадцати", "четырнадцати", "пятнадцати",
    "шестнадцати", "семнадцати", "восемнадцати", "девятнадцати", "двадцати",
    "двадцати одного", "двадцати двух", "двадцати трёх",
)  # fmt: skip
_EN_NUMBERS = (
    "twelve", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven",
)  # fmt: skip


def time_words(hour: int, minute: int, lang: str) -> str:
    """A clock time as words: ru in the genitive ("девяти тридцати"), en 12-hour ("nine a.m.").

    Hours 0-23, minutes 0 or 30.
    """
    if not 0 <= hour <= 23:
        raise ValueError(f"hour out of range: {hour}")
    if minute not in (0, 30):
        raise ValueError(f"only whole and half hours are supported, got minute {minute}")
    if lang == "ru":
        if minute == 30:
            return f"{_RU_GENITIVE[hour]} тридцати"
        return {0: "полуночи", 1: "часу"}.get(hour, _RU_GENITIVE[hour])
    if lang == "en":
        if minute == 0 and hour == 0:
            return "midnight"
        if minute == 0 and hour == 12:
            return "noon"
        half = " thirty" if minute == 30 else ""
        suffix = "a.m." if hour < 12 else "p.m."
        return f"{_EN_NUMBERS[hour % 12]}{half} {suffix}"
    raise ValueError(f"no number words for language {lang!r}")


# --- days ---------------------------------------------------------------------------------

_RU_GEN = dict(zip(DAYS, ("понедельника", "вторника", "среды", "четверга", "пятницы",
                          "субботы", "воскресенья"), strict=True))  # fmt: skip
_RU_ACC = dict(zip(DAYS, ("понедельник", "вторник", "среду", "четверг", "пятницу",
                          "субботу", "воскресенье"), strict=True))  # fmt: skip
_EN_DAY = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                          "Saturday", "Sunday"), strict=True))  # fmt: skip


def _ru_in(day: str) -> str:
    """Russian "on <day>": "в пятницу", "во вторник"."""
    return ("во " if day == "tue" else "в ") + _RU_ACC[day]


def _days_phrase(days: list[str], lang: str) -> str:
    first, last = days[0], days[-1]
    if lang == "ru":
        if len(days) == 1:
            return _ru_in(first)
        if len(days) == 2:
            return f"{_ru_in(first)} и {_RU_ACC[last]}"
        return f"с {_RU_GEN[first]} по {_RU_ACC[last]}"
    if len(days) == 1:
        return _EN_DAY[first]
    if len(days) == 2:
        return f"{_EN_DAY[first]} and {_EN_DAY[last]}"
    return f"{_EN_DAY[first]} to {_EN_DAY[last]}"


# --- models -------------------------------------------------------------------------------

_RANGE_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class OpenHours(BaseModel):
    """Open from open_h:open_m to close_h:close_m on one day (minutes 0 or 30)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    open_h: int
    open_m: int
    close_h: int
    close_m: int

    @property
    def open_minutes(self) -> int:
        return self.open_h * 60 + self.open_m

    @property
    def close_minutes(self) -> int:
        return self.close_h * 60 + self.close_m


def _parse_day(value: Any) -> OpenHours | None:
    if isinstance(value, OpenHours) or value is None:
        return value
    if isinstance(value, bool) and value is False:
        return None  # YAML 1.1 reads an unquoted `off`/`no` as false
    if not isinstance(value, str):
        raise ValueError(f'expected "HH:MM-HH:MM" (quoted) or "closed", got {value!r}')
    if value.strip().lower() == "closed":
        return None
    m = _RANGE_RE.match(value)
    if not m:
        raise ValueError(f'expected "HH:MM-HH:MM" or "closed", got {value!r}')
    oh, om, ch, cm = (int(g) for g in m.groups())
    for h, mi in ((oh, om), (ch, cm)):
        if not 0 <= h <= 23 or mi not in (0, 30):
            raise ValueError(f"times must be 00:00-23:30 on whole or half hours, got {value!r}")
    if (ch, cm) <= (oh, om):
        raise ValueError(f"closing time must be after opening time, got {value!r}")
    return OpenHours(open_h=oh, open_m=om, close_h=ch, close_m=cm)


DayHours = Annotated[OpenHours | None, BeforeValidator(_parse_day)]
Texts = dict[str, str]


class Hours(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    mon: DayHours
    tue: DayHours
    wed: DayHours
    thu: DayHours
    fri: DayHours
    sat: DayHours
    sun: DayHours

    def day(self, day: str) -> OpenHours | None:
        if day not in DAYS:
            raise ValueError(f"unknown day {day!r}")
        value: OpenHours | None = getattr(self, day)
        return value


class Persona(BaseModel):
    """Per-language texts are dicts language -> text; every text has the same languages."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    company: Texts
    secretary_name: Texts
    greeting: Texts
    hours_reply: Texts = Field(
        default_factory=lambda: {"ru": "Мы работаем {hours}.", "en": "We are open {hours}."}
    )
    goodbye: Texts
    not_understood: Texts
    only_hours: Texts
    reprompt: Texts = Field(
        default_factory=lambda: {
            "ru": "Алло! Вы меня слышите?", "en": "Hello? Are you still there?"
        }
    )
    hours: Hours

    @model_validator(mode="after")
    def _same_languages(self) -> Persona:
        langs = set(self.greeting)
        if not langs:
            raise ValueError("greeting: at least one language is needed")
        for lang in langs:
            if lang not in SUPPORTED_LANGUAGES:
                raise ValueError(
                    f"greeting.{lang}: unsupported language (supported: "
                    f"{', '.join(SUPPORTED_LANGUAGES)})"
                )
        for field in ("company", "secretary_name", "hours_reply", "goodbye", "not_understood",
                      "only_hours", "reprompt"):  # fmt: skip
            texts: Texts = getattr(self, field)
            for lang in sorted(langs - set(texts)):
                raise ValueError(f"{field}.{lang}: missing (greeting has this language)")
            for lang, text in texts.items():
                if not text.strip():
                    raise ValueError(f"{field}.{lang}: must not be empty")
        for lang, text in self.hours_reply.items():
            if "{hours}" not in text:
                raise ValueError(f"hours_reply.{lang}: must contain the placeholder {{hours}}")
        return self

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self.greeting)

    def text(self, field: str, lang: str) -> str:
        """One of the per-language texts, e.g. text("goodbye", "ru")."""
        texts = getattr(self, field)
        if not isinstance(texts, dict) or lang not in texts:
            raise ValueError(f"persona has no {field} in language {lang!r}")
        return str(texts[lang])

    def hours_sentence(self, lang: str) -> str:
        """The opening hours as spoken words, grouped by runs of equal days.

        ru: "с понедельника по четверг с девяти до восемнадцати, в пятницу с девяти до
        семнадцати, в субботу и воскресенье выходной"; en: "Monday to Thursday from nine
        a.m. to six p.m., Friday from nine a.m. to five p.m., Saturday and Sunday closed".
        """
        if lang not in SUPPORTED_LANGUAGES:
            raise ValueError(f"no hours sentence for language {lang!r}")
        groups: list[tuple[list[str], OpenHours | None]] = []
        for day in DAYS:
            value = self.hours.day(day)
            if groups and groups[-1][1] == value:
                groups[-1][0].append(day)
            else:
                groups.append(([day], value))
        parts = []
        for days, value in groups:
            when = _days_phrase(days, lang)
            if value is None:
                parts.append(f"{when} {'выходной' if lang == 'ru' else 'closed'}")
                continue
            start = time_words(value.open_h, value.open_m, lang)
            end = time_words(value.close_h, value.close_m, lang)
            if lang == "ru":
                parts.append(f"{when} с {start} до {end}")
            else:
                parts.append(f"{when} from {start} to {end}")
        return ", ".join(parts)

    def hours_reply_text(self, lang: str) -> str:
        """The full answer to an hours question, e.g. "Мы работаем с понедельника ..."."""
        return self.text("hours_reply", lang).replace("{hours}", self.hours_sentence(lang))


def load_persona(path: Path) -> Persona:
    """Read and validate a persona YAML; errors are ConfigError naming the file and key."""
    source = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read persona: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text: {exc.reason}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{source}: invalid YAML: {where}{problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    try:
        return Persona.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(source, exc)) from None
