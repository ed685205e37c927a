"""The persona as a plain fact sheet for an LLM, and the hours check its tools call.

The sheet holds only what a caller may be told: staff extensions are listed as "can be put
through" and private numbers never appear.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ari_app.mind.calendar import (
    day_sentence,
    holiday_dates,
    now_sentence,
)
from ari_app.mind.staff import Target
from ari_app.mind.texts import pick
from ari_app.mind.words import DAYS, EN_DAY

if TYPE_CHECKING:
    from ari_app.mind.persona import Persona

_LABELS = {
    "ru": {
        "company": "Компания", "secretary": "Секретарь", "about": "О компании",
        "address": "Адрес", "now": "Сейчас", "tz": "часовой пояс", "week": "Часы работы",
        "holidays": "Праздничные дни (не работаем)", "short": "Сокращённые дни",
        "services": "Услуги и цены", "faq": "Частые вопросы", "q": "Вопрос", "a": "Ответ",
        "staff": "Сотрудники", "departments": "Отделы", "dept": "отдел", "hours": "часы",
        "transfer": "можно соединить", "message_only": "только сообщение",
        "no_price": "цену не называем", "today": "сегодня",
    },
    "en": {
        "company": "Company", "secretary": "Secretary", "about": "About",
        "address": "Address", "now": "Now", "tz": "time zone", "week": "Opening hours",
        "holidays": "Holidays (closed)", "short": "Short days",
        "services": "Services and prices", "faq": "FAQ", "q": "Q", "a": "A",
        "staff": "Staff", "departments": "Departments", "dept": "department", "hours": "hours",
        "transfer": "can be put through", "message_only": "messages only",
        "no_price": "no price given", "today": "today",
    },
}  # fmt: skip


_RU_DAY_NOM = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота",
               "воскресенье")  # fmt: skip


def _weekday(day: dt.date, lang: str) -> str:
    return _RU_DAY_NOM[day.weekday()] if lang == "ru" else EN_DAY[DAYS[day.weekday()]]


def check_hours(persona: Persona, language: str, when: dt.datetime | None = None, *,
                now: dt.datetime | None = None) -> str:
    """A spoken sentence about the hours: with no `when`, whether we are open right now;
    with `when`, that day's hours (and, if a time of day is given, whether we are open
    then)."""
    cal = persona.calendar
    current = cal.local(now or persona.now())
    if when is None:
        return now_sentence(cal, current, language)
    at = cal.local(when)
    ahead = (at.date() - current.date()).days
    sentence = day_sentence(cal.day(at.date()), current.date(), language, with_date=ahead > 1)
    if at.time() == dt.time(0, 0):
        return sentence
    ru = language == "ru"
    opened = cal.is_open(at)
    if ru:
        prefix = "В это время мы открыты." if opened else "В это время мы закрыты."
    else:
        prefix = "We are open at that time." if opened else "We are closed at that time."
    return f"{prefix} {sentence}"


def fact_sheet(persona: Persona, lang: str, now: dt.datetime) -> str:
    """Company, address, hours with holidays, services and prices, FAQ, the staff directory
    and, last, the time now with today's status, as plain lines in `lang`."""
    label = _LABELS[lang]
    cal = persona.calendar
    at = cal.local(now)
    lines = [
        f"{label['company']}: {pick(persona.company, lang)}",
        f"{label['secretary']}: {pick(persona.secretary_name, lang)}",
    ]
    if persona.about:
        lines.append(f"{label['about']}: {pick(persona.about, lang)}")
    if persona.address:
        lines.append(f"{label['address']}: {pick(persona.address, lang)}")
    lines.append(f"{label['week']}: {persona.hours.sentence(lang)}.")
    holidays = cal.upcoming_holidays(at)
    if holidays:
        lines.append(f"{label['holidays']}:")
        for h in holidays:
            name = h.name.get(lang)
            span = f"{h.date.isoformat()}" + (f"..{h.last.isoformat()}" if h.until else "")
            lines.append(f"- {span} ({holiday_dates(h, lang)}){': ' + name if name else ''}")
    shorts = [s for s in persona.short_days if s.date >= at.date()]
    if shorts:
        lines.append(f"{label['short']}:")
        for s in shorts:
            lines.append(f"- {s.date.isoformat()}: {s.hours.span(lang)}")
    if persona.services:
        lines.append(f"{label['services']}:")
        for service in persona.services:
            price = service.price.spoken(lang) if service.price else label["no_price"]
            desc = service.description.get(lang)
            lines.append(f"- {pick(service.name, lang)}: {price}" + (f". {desc}" if desc else ""))
    if persona.faq:
        lines.append(f"{label['faq']}:")
        for entry in persona.faq:
            question = (entry.question.get(lang) or [""])[0]
            lines.append(f"- {label['q']}: {question} {label['a']}: {pick(entry.answer, lang)}")
    if persona.departments:
        lines.append(f"{label['departments']}:")
        for key, dept in persona.departments.items():
            target = Target(key, None, dept, key)
            lines.append(_directory_line(persona, target, lang, label))
    if persona.staff:
        lines.append(f"{label['staff']}:")
        for member in persona.staff:
            target = Target(member.id, member, None, member.department)
            lines.append(_directory_line(persona, target, lang, label))
    # The clock goes last: it changes every minute, and a model server (llama.cpp, vLLM)
    # reuses the longest prompt prefix it has already processed, so everything above is
    # computed once for all the calls of a persona and language, not once per call.
    lines.append(
        f"{label['now']}: {_weekday(at.date(), lang)} {at:%Y-%m-%d %H:%M} "
        f"({label['tz']} {persona.time_zone}). {now_sentence(cal, at, lang)}"
    )
    return "\n".join(lines)


def _directory_line(persona: Persona, target: Target, lang: str, label: dict[str, str]
                    ) -> str:
    parts = [target.name(lang)]
    if target.staff is not None:
        if target.staff.role:
            parts.append(pick(target.staff.role, lang))
        dept = persona.departments.get(target.department_key or "")
        if dept is not None:
            parts.append(f"{label['dept']}: {pick(dept.name, lang)}")
    parts.append(f"{label['hours']}: {target.week(persona).sentence(lang)}")
    parts.append(label["transfer"] if target.allowed(persona) else label["message_only"])
    return f"- [{target.key}] " + "; ".join(parts)
