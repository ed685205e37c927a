"""Who the caller asks for in the staff directory (mind/directory.py), whether they may be
put through now, and the transfer request handed to the call session.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ari_app.mind.calendar import BusinessCalendar, Week
from ari_app.mind.directory import Department, StaffMember, TransferMode
from ari_app.mind.facts import content_words, words_match
from ari_app.mind.persona import Persona
from ari_app.mind.phone import parse_phone
from ari_app.mind.phrases import PhraseBook
from ari_app.mind.texts import pick

# Role and department words too general to pick someone by ("главный", "отдел").
_GENERIC = frozenset(
    "главный главная старший старшая ведущий ведущая младший заместитель отдел отдела служба "
    "департамент chief head senior junior lead deputy department team office".split()
)


@dataclass(frozen=True)
class TransferRequest:
    target: str  # dialplan target: extension "200", department "sales", queue "reception"
    mode: TransferMode
    staff_name: str | None
    department: str | None
    announcement: str  # for the staff member: who calls and why, in their language
    language: str | None = None  # the announcement's language


def _name_match(a: str, b: str) -> bool:
    """Names are short and declined: "анна"/"анну", "петров"/"петровым"."""
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return common >= 3 and common >= min(len(a), len(b)) - 1


@dataclass(frozen=True)
class Target:
    """A staff member or a department the caller asked for."""

    key: str  # staff id or department key
    staff: StaffMember | None
    department: Department | None
    department_key: str | None

    def name(self, lang: str) -> str:
        if self.staff is not None:
            return pick(self.staff.name, lang)
        assert self.department is not None
        return pick(self.department.name, lang)

    def dial(self) -> str | None:
        if self.staff is not None:
            return self.staff.extension or self.staff.number
        assert self.department is not None
        return self.department.target

    def week(self, persona: Persona) -> Week:
        own = self.staff.hours if self.staff is not None else None
        dept = persona.departments.get(self.department_key or "")
        return own or (dept.hours if dept is not None else None) or persona.hours

    def calendar(self, persona: Persona) -> BusinessCalendar:
        cal = persona.calendar
        return BusinessCalendar(self.week(persona), cal.holidays, cal.short_days, cal.tz)

    def allowed(self, persona: Persona) -> bool:
        rules = persona.transfer
        if not rules.enabled or self.dial() is None:
            return False
        return rules.allow is None or self.key in rules.allow

    def available(self, persona: Persona, at: dt.datetime) -> bool:
        return self.calendar(persona).is_open(at)

    def mode(self, persona: Persona) -> TransferMode:
        own = self.staff.transfer if self.staff is not None else self.department.transfer \
            if self.department is not None else None
        dept = persona.departments.get(self.department_key or "")
        return own or (dept.transfer if dept is not None else None) or persona.transfer.mode

    def language(self, persona: Persona) -> str:
        own = self.staff.language if self.staff is not None else None
        dept = persona.departments.get(self.department_key or "")
        return own or (dept.language if dept is not None else None) or persona.languages[0]


# "Меня зовут Иван Петров" names the caller, not whom to call: the phrase and the (at most
# two) words of the name after it are left out; text from a recogniser without punctuation
# ("меня зовут иван соедините с петровым") keeps its request.
_SELF_INTRODUCTION = re.compile(
    r"\b(меня зовут|мо[её] имя|my name is|my name's)\b(\s+[^\s,.;!?]+){0,2}", re.IGNORECASE
)


def find_target(persona: Persona, text: str, lang: str) -> Target | None:
    """The staff member or department named in `text`: by a name (first or last, any
    case ending), else a department's name or keyword, else a role. The caller's own name
    ("меня зовут ...", "my name is ...") is not a target."""
    query = content_words(_SELF_INTRODUCTION.sub(" ", text))
    if not query:
        return None
    best: tuple[int, Target] | None = None

    def consider(score: int, target: Target) -> None:
        nonlocal best
        if score and (best is None or score > best[0]):
            best = (score, target)

    for member in persona.staff:
        names = {w for n in member.name.values() for w in content_words(n) if len(w) >= 3}
        score = 3 * sum(1 for n in names if any(_name_match(q, n) for q in query))
        roles = {w for r in member.role.values() for w in content_words(r)} - _GENERIC
        keys = {w for ks in member.keywords.values() for k in ks for w in content_words(k)}
        if any(words_match(q, r) for q in query for r in roles | keys):
            score += 1
        consider(score, Target(member.id, member, None, member.department))
    for key, dept in persona.departments.items():
        words = {w for n in dept.name.values() for w in content_words(n)} - _GENERIC
        words |= {w for ks in dept.keywords.values() for k in ks for w in content_words(k)}
        hits = sum(1 for w in words if any(words_match(q, w) for q in query))
        consider(2 * hits, Target(key, None, dept, key))
    return best[1] if best else None


def general_target(persona: Persona) -> Target | None:
    """Who gets what the secretary cannot answer (`transfer.general`), if anyone."""
    key = persona.transfer.general
    if key is None:
        return None
    for member in persona.staff:
        if member.id == key:
            return Target(key, member, None, member.department)
    dept = persona.departments.get(key)
    return Target(key, None, dept, key) if dept is not None else None


def announcement(persona: Persona, target: Target, *, caller_name: str | None,
                 caller_number: str | None, said: str) -> tuple[str, str]:
    """What the staff member hears before taking the call, and its language."""
    lang = target.language(persona)
    say = PhraseBook(persona.phrases, lang, persona.tone.formality == "friendly")
    who = caller_name or say("announce_caller")
    number = parse_phone(caller_number or "")
    if number is not None:
        who = say("announce_number", name=who, number=number.spoken(lang))
    return say("announce", caller=who, said=said.strip().rstrip(".!?")), lang


def transfer_request(persona: Persona, target: Target, *, caller_name: str | None = None,
                     caller_number: str | None = None, said: str = "") -> TransferRequest:
    dial = target.dial()
    if dial is None:
        raise ValueError(f"{target.key}: has no extension, number or target to transfer to")
    text, lang = announcement(persona, target, caller_name=caller_name,
                              caller_number=caller_number, said=said)
    staff_name = pick(target.staff.name, lang) if target.staff is not None else None
    return TransferRequest(dial, target.mode(persona), staff_name, target.department_key,
                           text, lang)


_EXTENSION = re.compile(r"[0-9*#]{1,20}")


def named_target(persona: Persona, name: str) -> Target | None:
    """The staff member or department `name` names exactly (its id or key, or its name in
    any language, any letter case): how a console operator names whom to put a call to."""
    key = " ".join(name.split()).casefold()
    for member in persona.staff:
        if key in {member.id.casefold(), *(n.casefold() for n in member.name.values())}:
            return Target(member.id, member, None, member.department)
    for dept_key, dept in persona.departments.items():
        if key in {dept_key.casefold(), *(n.casefold() for n in dept.name.values())}:
            return Target(dept_key, None, dept, dept_key)
    return None


def operator_request(persona: Persona, to: str, *,
                     caller_number: str | None = None) -> TransferRequest | None:
    """A console operator's transfer to `to` (a staff member's or department's name or key,
    or an extension), carried out like the secretary's own; None if `to` is none of these.
    The staff member hears who calls (there is nothing the caller said to repeat)."""
    target = named_target(persona, to)
    if target is not None and target.dial() is not None:
        dial = target.dial()
        assert dial is not None
        mode, lang = target.mode(persona), target.language(persona)
        staff_name = pick(target.staff.name, lang) if target.staff is not None else None
        department = target.department_key
    elif _EXTENSION.fullmatch(to.strip()):
        dial, mode, lang = to.strip(), persona.transfer.mode, persona.languages[0]
        staff_name, department = None, None
    else:
        return None
    say = PhraseBook(persona.phrases, lang, persona.tone.formality == "friendly")
    who = say("announce_caller")
    number = parse_phone(caller_number or "")
    if number is not None:
        who = say("announce_number", name=who, number=number.spoken(lang))
    return TransferRequest(dial, mode, staff_name, department, who[:1].upper() + who[1:] + ".",
                           lang)
