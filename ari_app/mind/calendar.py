"""Business hours: the weekly schedule, holidays and short days in the company's time zone,
and answers to "are you open now / on Saturday / until when today" from them.

Nothing is guessed: each answer is computed from the persona's calendar for a given moment.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ari_app.mind.texts import Texts
from ari_app.mind.words import (
    DAYS,
    EN_DAY,
    RU_DAY_ACC,
    date_words,
    days_phrase,
    tidy,
    time_words,
)

LOOKAHEAD_DAYS = 45  # how far "when do you open next" searches (long holidays included)

_RANGE_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class OpenHours(BaseModel):
    """Open from open_h:open_m to close_h:close_m on one day (minutes 0 or 30; closing
    may be 24:00, the midnight that ends the day)."""

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

    def opens(self, lang: str, case: str = "gen") -> str:
        return time_words(self.open_h, self.open_m, lang, "acc" if case == "acc" else "gen")

    def closes(self, lang: str) -> str:
        return time_words(self.close_h % 24, self.close_m, lang)

    @property
    def all_day(self) -> bool:
        return self.open_minutes == 0 and self.close_minutes == 24 * 60

    def span(self, lang: str) -> str:
        """"с девяти до восемнадцати"; "from nine a.m. to six p.m."; "круглосуточно"."""
        if self.all_day:
            return "круглосуточно" if lang == "ru" else "around the clock"
        if lang == "ru":
            return f"с {self.opens(lang)} до {self.closes(lang)}"
        return f"from {self.opens(lang)} to {self.closes(lang)}"


def parse_day_hours(value: Any) -> OpenHours | None:
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
    for h, mi, last in ((oh, om, 23), (ch, cm, 24)):
        if not 0 <= h <= last or mi not in (0, 30) or (h == 24 and mi):
            raise ValueError(
                f"times must be 00:00-23:30 (closing up to 24:00) on whole or half hours, "
                f"got {value!r}"
            )
    if (ch, cm) <= (oh, om):
        raise ValueError(f"closing time must be after opening time, got {value!r}")
    return OpenHours(open_h=oh, open_m=om, close_h=ch, close_m=cm)


DayHours = Annotated[OpenHours | None, BeforeValidator(parse_day_hours)]


class Week(BaseModel):
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

    def sentence(self, lang: str) -> str:
        """The week as spoken words, runs of equal days grouped: "с понедельника по четверг
        с девяти до восемнадцати, в пятницу ..., в субботу и воскресенье выходной"."""
        groups: list[tuple[list[str], OpenHours | None]] = []
        for day in DAYS:
            value = self.day(day)
            if groups and groups[-1][1] == value:
                groups[-1][0].append(day)
            else:
                groups.append(([day], value))
        parts = []
        for days, value in groups:
            when = days_phrase(days, lang)
            if value is None:
                parts.append(f"{when} {'выходной' if lang == 'ru' else 'closed'}")
            else:
                parts.append(f"{when} {value.span(lang)}")
        return ", ".join(parts)


class Holiday(BaseModel):
    """A day (or days, `date` to `until`) the company is closed."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    date: dt.date
    until: dt.date | None = None
    name: Texts = Field(default_factory=dict)

    @model_validator(mode="after")
    def _order(self) -> Holiday:
        if self.until is not None and self.until < self.date:
            raise ValueError("until: must not be before date")
        return self

    @property
    def last(self) -> dt.date:
        return self.until or self.date

    def covers(self, day: dt.date) -> bool:
        return self.date <= day <= self.last


def _short_day_hours(value: Any) -> OpenHours:
    hours = parse_day_hours(value)
    if hours is None:
        raise ValueError('a short day needs its hours ("HH:MM-HH:MM"); a closed day is a holiday')
    return hours


class ShortDay(BaseModel):
    """A day with its own hours, usually shorter (the eve of a holiday)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    date: dt.date
    hours: Annotated[OpenHours, BeforeValidator(_short_day_hours)]
    name: Texts = Field(default_factory=dict)


@dataclass(frozen=True)
class DayInfo:
    date: dt.date
    hours: OpenHours | None
    holiday: Holiday | None = None
    short: ShortDay | None = None


@dataclass(frozen=True)
class BusinessCalendar:
    week: Week
    holidays: tuple[Holiday, ...]
    short_days: tuple[ShortDay, ...]
    tz: ZoneInfo

    def local(self, when: dt.datetime) -> dt.datetime:
        """`when` in the company's time zone; a naive time is taken as already local."""
        if when.tzinfo is None:
            return when.replace(tzinfo=self.tz)
        return when.astimezone(self.tz)

    def day(self, day: dt.date) -> DayInfo:
        for holiday in self.holidays:
            if holiday.covers(day):
                return DayInfo(day, None, holiday=holiday)
        for short in self.short_days:
            if short.date == day:
                return DayInfo(day, short.hours, short=short)
        return DayInfo(day, self.week.day(DAYS[day.weekday()]))

    def is_open(self, when: dt.datetime) -> bool:
        at = self.local(when)
        hours = self.day(at.date()).hours
        minute = at.hour * 60 + at.minute
        return hours is not None and hours.open_minutes <= minute < hours.close_minutes

    def next_opening(self, when: dt.datetime) -> tuple[dt.date, OpenHours] | None:
        """The next time the doors open after `when` (today's opening if still ahead)."""
        at = self.local(when)
        minute = at.hour * 60 + at.minute
        for offset in range(LOOKAHEAD_DAYS + 1):
            day = at.date() + dt.timedelta(days=offset)
            hours = self.day(day).hours
            if hours is not None and (offset > 0 or minute < hours.open_minutes):
                return day, hours
        return None

    def upcoming_holidays(self, when: dt.datetime, days: int = 365) -> list[Holiday]:
        today = self.local(when).date()
        horizon = today + dt.timedelta(days=days)
        found = [h for h in self.holidays if h.last >= today and h.date <= horizon]
        return sorted(found, key=lambda h: h.date)


# --- spoken answers -------------------------------------------------------------------


def _cap(text: str) -> str:
    return tidy(text[:1].upper() + text[1:])


def when_words(day: dt.date, today: dt.date, lang: str, *, with_date: bool = False) -> str:
    """"сегодня", "завтра", "в субботу" (this week), "в субботу, второго мая" (later or
    `with_date`); en "today", "tomorrow", "on Saturday", "on Saturday, May second"."""
    delta = (day - today).days
    if delta in (0, 1):
        word = (("сегодня", "завтра") if lang == "ru" else ("today", "tomorrow"))[delta]
        return f"{word}, {date_words(day, lang)}" if with_date else word
    name = DAYS[day.weekday()]
    if lang == "ru":
        prep = "во" if name == "tue" else "в"
        base = f"{prep} {RU_DAY_ACC[name]}"
    else:
        base = f"on {EN_DAY[name]}"
    if with_date or not 0 < delta < 7:
        return f"{base}, {date_words(day, lang)}"
    return base


def day_sentence(info: DayInfo, today: dt.date, lang: str, *, with_date: bool = False) -> str:
    """Whether and when the company works on one day, e.g. "В субботу у нас выходной.".
    The date is said for holidays and short days, or when `with_date`."""
    special = info.holiday is not None or info.short is not None
    when = when_words(info.date, today, lang, with_date=with_date or special)
    if "," in when:
        when += ","  # "в пятницу, первого мая, мы не работаем"
    if info.holiday is not None:
        name = info.holiday.name.get(lang)
        if lang == "ru":
            return _cap(f"{when} мы не работаем: {name}." if name
                        else f"{when} мы не работаем, это праздничный день.")
        return _cap(f"{when} we are closed for {name}." if name
                    else f"{when} we are closed, it is a public holiday.")
    if info.hours is None:
        return _cap(f"{when} у нас выходной." if lang == "ru" else f"{when} we are closed.")
    short = ""
    if info.short is not None:
        short = ", это сокращённый день" if lang == "ru" else ", shorter hours than usual"
    if lang == "ru":
        return _cap(f"{when} мы работаем {info.hours.span(lang)}{short}.")
    return _cap(f"{when} we are open {info.hours.span(lang)}{short}.")


def next_opening_sentence(cal: BusinessCalendar, when: dt.datetime, lang: str) -> str:
    """"Откроемся в понедельник в девять."; "" when nothing opens within the look-ahead."""
    found = cal.next_opening(when)
    if found is None:
        return ""
    day, hours = found
    words = when_words(day, cal.local(when).date(), lang)
    if lang == "ru":
        return f"Откроемся {words} в {hours.opens(lang, 'acc')}."
    return tidy(f"We open {words} at {hours.opens(lang)}.")


def now_sentence(cal: BusinessCalendar, when: dt.datetime, lang: str) -> str:
    """Are we open at `when`: "Да, сейчас мы открыты, до восемнадцати." or "Сейчас мы
    закрыты. Откроемся завтра в девять."."""
    at = cal.local(when)
    info = cal.day(at.date())
    if cal.is_open(at):
        assert info.hours is not None
        if info.hours.all_day:
            return "Да, сегодня мы работаем круглосуточно." if lang == "ru" else (
                "Yes, today we are open around the clock.")
        if lang == "ru":
            return f"Да, сейчас мы открыты, работаем до {info.hours.closes(lang)}."
        return tidy(f"Yes, we are open now, until {info.hours.closes(lang)}.")
    first = "Сейчас мы закрыты." if lang == "ru" else "We are closed now."
    if info.holiday is not None:
        first = day_sentence(info, at.date(), lang)
    return " ".join(s for s in (first, next_opening_sentence(cal, at, lang)) if s)


def today_sentence(cal: BusinessCalendar, when: dt.datetime, lang: str) -> str:
    """Until when today: "Сегодня мы работаем до восемнадцати.", or closed already/all day
    and when we open next."""
    at = cal.local(when)
    info = cal.day(at.date())
    minute = at.hour * 60 + at.minute
    hours = info.hours
    if hours is None:
        return f"{day_sentence(info, at.date(), lang)} {next_opening_sentence(cal, at, lang)}"
    if minute >= hours.close_minutes:
        if lang == "ru":
            done = f"Сегодня мы уже закрылись, мы работали до {hours.closes(lang)}."
        else:
            done = tidy(f"We have closed for today; we were open until {hours.closes(lang)}.")
        return f"{done} {next_opening_sentence(cal, at, lang)}".strip()
    if minute < hours.open_minutes or hours.all_day:
        return day_sentence(info, at.date(), lang)
    if lang == "ru":
        return f"Сегодня мы работаем до {hours.closes(lang)}."
    return tidy(f"Today we are open until {hours.closes(lang)}.")


def holiday_dates(holiday: Holiday, lang: str) -> str:
    """"первое мая", "с первого по восьмое января"; "May first", "from January first to
    January eighth"."""
    if holiday.until is None or holiday.until == holiday.date:
        return date_words(holiday.date, lang, "nom")
    if lang == "ru":
        start = date_words(holiday.date, lang, "gen")
        if holiday.date.month == holiday.last.month:
            start = start.rsplit(" ", 1)[0]
        return f"с {start} по {date_words(holiday.last, lang, 'nom')}"
    return f"from {date_words(holiday.date, lang)} to {date_words(holiday.last, lang)}"


def holidays_sentence(cal: BusinessCalendar, when: dt.datetime, lang: str, limit: int = 4
                      ) -> str:
    """The next holidays, e.g. "В праздники мы не работаем: первое мая, ..."."""
    found = cal.upcoming_holidays(when)[:limit]
    if not found:
        if lang == "ru":
            return "В ближайшее время праздничных выходных у нас нет."
        return "We have no holiday closures coming up."
    items = []
    for holiday in found:
        name = holiday.name.get(lang)
        dates = holiday_dates(holiday, lang)
        items.append(f"{dates}, {name}" if name else dates)
    if lang == "ru":
        return "В праздники мы не работаем: " + "; ".join(items) + "."
    return "We are closed on public holidays: " + "; ".join(items) + "."
