"""The business calendar: time zones, holidays, short days and the spoken answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ari_app.mind.calendar import BusinessCalendar, Holiday, ShortDay, Week, holiday_dates
from ari_app.mind.fact_sheet import check_hours
from ari_app.mind.persona import Persona, load_persona

PERSONA_PATH = Path(__file__).resolve().parents[2] / "config" / "personas" / "default.yaml"
MSK = ZoneInfo("Europe/Moscow")
UTC = dt.UTC


@pytest.fixture(scope="module")
def persona() -> Persona:
    return load_persona(PERSONA_PATH)


def test_time_zone_is_the_companys(persona: Persona) -> None:
    cal = persona.calendar
    # 06:30 UTC is 09:30 in Moscow: open; 15:30 UTC is 18:30 in Moscow: closed
    assert cal.is_open(dt.datetime(2026, 4, 29, 6, 30, tzinfo=UTC))
    assert not cal.is_open(dt.datetime(2026, 4, 29, 15, 30, tzinfo=UTC))
    # a naive time is taken as Moscow time
    assert cal.is_open(dt.datetime(2026, 4, 29, 17, 59))
    assert not cal.is_open(dt.datetime(2026, 4, 29, 18, 0))
    assert not cal.is_open(dt.datetime(2026, 4, 29, 8, 59))


def test_holidays_and_short_days(persona: Persona) -> None:
    cal = persona.calendar
    assert cal.day(dt.date(2026, 5, 1)).holiday is not None
    assert not cal.is_open(dt.datetime(2026, 5, 1, 12, tzinfo=MSK))  # a Friday, but a holiday
    short = cal.day(dt.date(2026, 4, 30))
    assert short.short is not None and short.hours is not None
    assert (short.hours.close_h, short.hours.close_m) == (17, 0)
    assert cal.day(dt.date(2026, 1, 5)).holiday is not None  # inside the New Year range
    assert cal.day(dt.date(2026, 1, 12)).holiday is None


def test_next_opening_over_a_long_holiday(persona: Persona) -> None:
    cal = persona.calendar
    day, hours = cal.next_opening(dt.datetime(2025, 12, 31, 19, tzinfo=MSK)) or (None, None)
    assert day == dt.date(2026, 1, 12) and hours is not None and hours.open_h == 9
    # before opening on a working day: today
    found = cal.next_opening(dt.datetime(2026, 4, 29, 7, tzinfo=MSK))
    assert found is not None and found[0] == dt.date(2026, 4, 29)


def test_never_open_calendar_says_nothing_about_opening() -> None:
    closed = Week(mon=None, tue=None, wed=None, thu=None, fri=None, sat=None, sun=None)
    cal = BusinessCalendar(closed, (), (), MSK)
    assert cal.next_opening(dt.datetime(2026, 4, 29, 12, tzinfo=MSK)) is None


@pytest.mark.parametrize(
    ("lang", "when", "now", "expected"),
    [
        ("ru", None, dt.datetime(2026, 4, 29, 11, tzinfo=MSK),
         "Да, сейчас мы открыты, работаем до восемнадцати."),
        ("ru", None, dt.datetime(2026, 5, 1, 11, tzinfo=MSK),
         "Сегодня, первого мая, мы не работаем: Праздник весны и труда. "
         "Откроемся в понедельник в девять."),
        ("en", None, dt.datetime(2026, 5, 2, 11, tzinfo=MSK),
         "We are closed now. We open on Monday at nine a.m."),
        ("en", dt.datetime(2026, 5, 2), dt.datetime(2026, 4, 29, 11, tzinfo=MSK),
         "On Saturday, May second, we are closed."),
        ("ru", dt.datetime(2026, 6, 11, 16, 30), dt.datetime(2026, 4, 29, 11, tzinfo=MSK),
         "В это время мы открыты. В четверг, одиннадцатого июня, мы работаем с девяти до "
         "семнадцати, это сокращённый день."),
        ("en", dt.datetime(2026, 4, 29, 19, 0, tzinfo=MSK),
         dt.datetime(2026, 4, 29, 11, tzinfo=MSK),
         "We are closed at that time. Today we are open from nine a.m. to six p.m."),
    ],
)
def test_check_hours(persona: Persona, lang: str, when: dt.datetime | None, now: dt.datetime,
                     expected: str) -> None:
    assert check_hours(persona, lang, when, now=now) == expected


def test_holiday_dates() -> None:
    one = Holiday(date=dt.date(2026, 5, 1))
    span = Holiday(date=dt.date(2026, 1, 1), until=dt.date(2026, 1, 8))
    across = Holiday(date=dt.date(2026, 12, 31), until=dt.date(2027, 1, 2))
    assert holiday_dates(one, "ru") == "первое мая"
    assert holiday_dates(span, "ru") == "с первого по восьмое января"
    assert holiday_dates(across, "ru") == "с тридцать первого декабря по второе января"
    assert holiday_dates(span, "en") == "from January first to January eighth"


def test_short_day_parsing() -> None:
    day = ShortDay.model_validate({"date": "2026-12-31", "hours": "09:00-15:00"})
    assert (day.hours.open_h, day.hours.close_h) == (9, 15)
    with pytest.raises(ValueError, match="a closed day is a holiday"):
        ShortDay.model_validate({"date": "2026-12-31", "hours": "closed"})


def test_around_the_clock() -> None:
    always = Week.model_validate({d: "00:00-24:00" for d in
                                  ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    cal = BusinessCalendar(always, (), (), MSK)
    assert always.sentence("ru") == "с понедельника по воскресенье круглосуточно"
    assert always.sentence("en") == "Monday to Sunday around the clock"
    assert cal.is_open(dt.datetime(2026, 4, 29, 23, 59, tzinfo=MSK))
    with pytest.raises(ValueError, match="closing up to 24:00"):
        Week.model_validate({d: "00:00-24:30" for d in
                             ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
