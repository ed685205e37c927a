"""Phone numbers from what the caller said, and back to words for the read-back.

Whisper writes a dictated number as digits ("8 916 123-45-67"), as words ("восемь девятьсот
шестнадцать сто двадцать три сорок пять шестьдесят семь"), or mixed. Groups spoken as
compound numbers are expanded the way people dictate them: "девятьсот шестнадцать" is
9-1-6, "сорок пять" is 4-5, "double five" is 5-5.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ari_app.mind.words import DIGIT_WORDS

MIN_DIGITS = 7  # a city number without its area code
MAX_DIGITS = 15  # E.164

_UNITS = {
    "ноль": 0, "нуль": 0, "один": 1, "одна": 1, "два": 2, "две": 2, "три": 3, "четыре": 4,
    "пять": 5, "шесть": 6, "семь": 7, "восемь": 8, "девять": 9,
    "zero": 0, "oh": 0, "o": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_TEENS = {
    "десять": 10, "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13, "четырнадцать": 14,
    "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17, "восемнадцать": 18,
    "девятнадцать": 19,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "двадцать": 20, "тридцать": 30, "сорок": 40, "пятьдесят": 50, "шестьдесят": 60,
    "семьдесят": 70, "восемьдесят": 80, "девяносто": 90,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_HUNDREDS = {
    "сто": 100, "двести": 200, "триста": 300, "четыреста": 400, "пятьсот": 500,
    "шестьсот": 600, "семьсот": 700, "восемьсот": 800, "девятьсот": 900,
}  # fmt: skip
_REPEAT = {"double": 2, "triple": 3}
_PLUS = {"плюс", "plus"}

_TOKEN = re.compile(r"\+|[0-9]+|[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class PhoneNumber:
    digits: str  # digits only
    plus: bool = False  # dictated with a leading "+"/"плюс"

    def __str__(self) -> str:
        return ("+" if self.plus else "") + self.digits

    def groups(self) -> list[str]:
        """Digit groups for reading back: 8 916 123 45 67; others in threes, then pairs."""
        d = self.digits
        if len(d) == 11 and d[0] in "78":
            return [d[0], d[1:4], d[4:7], d[7:9], d[9:]]
        if len(d) == 10:
            return [d[:3], d[3:6], d[6:8], d[8:]]
        if len(d) == 7:
            return [d[:3], d[3:5], d[5:]]
        out = []
        while len(d) > 4:
            out.append(d[:3])
            d = d[3:]
        return [*out, *([d[:2], d[2:]] if len(d) == 4 else [d])]

    def spoken(self, lang: str) -> str:
        """Digit by digit, groups separated by commas: "восемь, девять один шесть, ..."."""
        words = DIGIT_WORDS[lang]
        groups = [" ".join(words[int(c)] for c in g) for g in self.groups() if g]
        head = ("плюс " if lang == "ru" else "plus ") if self.plus else ""
        return head + ", ".join(groups)


class _Groups:
    """Collects digit groups from number words: hundreds, tens and units of one compound
    number ("девятьсот шестнадцать") form one group."""

    def __init__(self) -> None:
        self.digits = ""
        self.value: int | None = None
        self.slots = 0  # 3: hundreds said, 2: tens said, 1: units/teens said (group full)

    def flush(self) -> None:
        if self.value is not None:
            self.digits += str(self.value)
        self.value, self.slots = None, 0

    def add(self, value: int, slot: int) -> None:
        """slot 3 hundreds, 2 tens, 1 units; a teen takes slot 1 after hundreds only."""
        if self.value is not None and self.slots > slot:
            self.value += value
        else:
            self.flush()
            self.value = value
        self.slots = slot
        if slot == 1:
            self.flush()

    def digit_run(self, run: str) -> None:
        self.flush()
        self.digits += run


def _open_slot(token: str) -> int:
    """The slot a digit token leaves open for the next token to fill, or 0 when it is complete.

    Whisper writes one compound number said aloud as several: "девятьсот шестнадцать" as
    "900 16", "сто двадцать три" as "120 3" or "100 23", "двадцать восемь" as "20 8". A round
    hundred leaves its tens open (3), a round ten its units (2); anything else is complete.
    """
    if len(token) == 3 and token[0] != "0" and token.endswith("00"):
        return 3
    if len(token) == 3 and token[0] != "0" and token[1] in "23456789" and token[2] == "0":
        return 2  # "120": hundreds and tens said, the units may follow
    if len(token) == 2 and token[0] in "23456789" and token[1] == "0":
        return 2
    return 0


def _fills(token: str, groups: _Groups) -> bool:
    """Whether a digit token completes the compound number still open in `groups`: a unit
    after tens ("20 8"), a unit, a teen or tens-and-units after bare hundreds ("900 16")."""
    if groups.value is None or token[0] == "0":
        return False
    if len(token) == 1:
        return groups.slots in (2, 3)
    if len(token) == 2 and _open_slot(token) == 0:
        return groups.slots == 3 and groups.value % 100 == 0
    return False


def extract_digits(text: str) -> tuple[str, bool]:
    """All the digits dictated in `text`, and whether a "+" preceded them."""
    groups = _Groups()
    plus = False
    repeat = 1
    prev_unit = False  # the last token was a unit word ("nine" before "hundred")
    for raw in _TOKEN.findall(text.lower().replace("ё", "е")):
        was_unit, prev_unit = prev_unit, False
        if raw == "+" or raw in _PLUS:
            plus = plus or not (groups.digits or groups.value is not None)
            continue
        if raw.isdigit() and repeat == 1 and _fills(raw, groups):
            groups.add(int(raw), 1)  # "900 16": one compound number written as two
        elif raw.isdigit() and repeat == 1 and _open_slot(raw):
            if len(raw) == 3:
                groups.flush()  # a new hundreds starts a new number; a round ten may join one
            groups.add(int(raw), _open_slot(raw))
        elif raw.isdigit():
            groups.digit_run(raw * repeat)
            repeat = 1
        elif raw in _REPEAT:
            groups.flush()
            repeat = _REPEAT[raw]
        elif raw in _UNITS and (raw not in ("o", "oh") or groups.digits or repeat > 1):
            value = _UNITS[raw]
            if repeat > 1 or value == 0:
                groups.digit_run(str(value) * repeat)
                repeat = 1
            else:
                groups.add(value, 1)
                prev_unit = True
        elif raw in _TEENS:
            groups.add(_TEENS[raw], 1)
        elif raw in _TENS:
            groups.add(_TENS[raw], 2)
        elif raw in _HUNDREDS:
            groups.add(_HUNDREDS[raw], 3)
        elif raw == "hundred" and was_unit:
            groups.value, groups.slots = int(groups.digits[-1]) * 100, 3
            groups.digits = groups.digits[:-1]
    groups.flush()
    return groups.digits, plus


def parse_phone(text: str) -> PhoneNumber | None:
    """The phone number in `text` if it has one of a plausible length (7-15 digits)."""
    digits, plus = extract_digits(text)
    if MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        return PhoneNumber(digits, plus)
    return None


def phone_problem(text: str) -> str | None:
    """Why `text` is not a usable callback number ("too_short", "too_long", "none"), or
    None when it is one."""
    digits, _ = extract_digits(text)
    if not digits:
        return "none"
    if len(digits) < MIN_DIGITS:
        return "too_short"
    if len(digits) > MAX_DIGITS:
        return "too_long"
    return None
