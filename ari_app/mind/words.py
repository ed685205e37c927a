"""Numbers, clock times, days, dates and money as words, in Russian and English.

TTS engines read words more reliably than digits ("18:00", "500 ₽", "01.05"), and the
words keep the grammar right: "с девяти до восемнадцати", "первого мая", "две тысячи
пятьсот рублей".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# --- clock times --------------------------------------------------------------------------

# Russian hours in the genitive, as after "с" / "до" ("с девяти до восемнадцати").
_RU_GENITIVE = (
    "ноля", "одного", "двух", "трёх", "четырёх", "пяти", "шести", "семи", "восьми", "девяти",
    "десяти", "одиннадцати", "двенадцати", "тринадцати", "четырнадцати", "пятнадцати",
    "шестнадцати", "семнадцати", "восемнадцати", "девятнадцати", "двадцати",
    "двадцати одного", "двадцати двух", "двадцати трёх",
)  # fmt: skip
_EN_CLOCK = (
    "twelve", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven",
)  # fmt: skip


def time_words(hour: int, minute: int, lang: str, case: Literal["gen", "acc"] = "gen") -> str:
    """A clock time as words, hours 0-23 and minutes 0 or 30.

    ru "gen" follows "с"/"до" ("девяти тридцати"), ru "acc" follows "в" ("девять
    тридцать"); en is 12-hour either way ("nine a.m.", "one thirty p.m.").
    """
    if not 0 <= hour <= 23:
        raise ValueError(f"hour out of range: {hour}")
    if minute not in (0, 30):
        raise ValueError(f"only whole and half hours are supported, got minute {minute}")
    if lang == "ru":
        if case == "acc":
            if minute == 0 and hour in (0, 1):
                return ("полночь", "час")[hour]
            words = cardinal(hour, "ru") if hour else "ноль"
            return f"{words} тридцать" if minute == 30 else words
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
        return f"{_EN_CLOCK[hour % 12]}{half} {suffix}"
    raise ValueError(f"no number words for language {lang!r}")


def tidy(text: str) -> str:
    """One period after "a.m."/"p.m." at a sentence end ("six p.m.." -> "six p.m.")."""
    return re.sub(r"([ap]\.m)\.\.(?!\.)", r"\1.", text)


# --- days ---------------------------------------------------------------------------------

RU_DAY_GEN = dict(zip(DAYS, ("понедельника", "вторника", "среды", "четверга", "пятницы",
                             "субботы", "воскресенья"), strict=True))  # fmt: skip
RU_DAY_ACC = dict(zip(DAYS, ("понедельник", "вторник", "среду", "четверг", "пятницу",
                             "субботу", "воскресенье"), strict=True))  # fmt: skip
EN_DAY = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                         "Saturday", "Sunday"), strict=True))  # fmt: skip


def on_day(day: str, lang: str) -> str:
    """"в пятницу", "во вторник"; "on Friday"."""
    if lang == "ru":
        return ("во " if day == "tue" else "в ") + RU_DAY_ACC[day]
    return f"on {EN_DAY[day]}"


def days_phrase(days: list[str], lang: str) -> str:
    """A run of days: "с понедельника по четверг", "в субботу и воскресенье"; "Monday to
    Thursday", "Saturday and Sunday"."""
    first, last = days[0], days[-1]
    if lang == "ru":
        if len(days) == 1:
            return on_day(first, lang)
        if len(days) == 2:
            return f"{on_day(first, lang)} и {RU_DAY_ACC[last]}"
        return f"с {RU_DAY_GEN[first]} по {RU_DAY_ACC[last]}"
    if len(days) == 1:
        return EN_DAY[first]
    if len(days) == 2:
        return f"{EN_DAY[first]} and {EN_DAY[last]}"
    return f"{EN_DAY[first]} to {EN_DAY[last]}"


# --- cardinals and money ------------------------------------------------------------------

_RU_UNITS = ("", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять")
_RU_TEENS = (
    "десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать",
    "шестнадцать", "семнадцать", "восемнадцать", "девятнадцать",
)  # fmt: skip
_RU_TENS = ("", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят",
            "восемьдесят", "девяносто")  # fmt: skip
_RU_HUNDREDS = ("", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот",
                "восемьсот", "девятьсот")  # fmt: skip
_EN_UNITS = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_EN_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
             "seventeen", "eighteen", "nineteen")  # fmt: skip
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
            "ninety")  # fmt: skip


def _ru_triple(n: int, feminine: bool) -> list[str]:
    words = [_RU_HUNDREDS[n // 100]] if n >= 100 else []
    rest = n % 100
    if 10 <= rest < 20:
        return [*words, _RU_TEENS[rest - 10]]
    if rest >= 20:
        words.append(_RU_TENS[rest // 10])
    unit = rest % 10
    if unit:
        words.append(("одна", "две")[unit - 1] if feminine and unit <= 2 else _RU_UNITS[unit])
    return words


def _en_triple(n: int) -> list[str]:
    words = [_EN_UNITS[n // 100], "hundred"] if n >= 100 else []
    rest = n % 100
    if 10 <= rest < 20:
        return [*words, _EN_TEENS[rest - 10]]
    if rest >= 20:
        tens = _EN_TENS[rest // 10]
        words.append(f"{tens}-{_EN_UNITS[rest % 10]}" if rest % 10 else tens)
    elif rest:
        words.append(_EN_UNITS[rest])
    return words


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """The Russian noun form after n: 1 рубль, 2 рубля, 5 рублей, 11 рублей, 21 рубль."""
    if 11 <= n % 100 <= 14:
        return many
    return {1: one, 2: few, 3: few, 4: few}.get(n % 10, many)


def cardinal(n: int, lang: str, *, feminine: bool = False) -> str:
    """0 to 999 999 as words (nominative in Russian): 2500 -> "две тысячи пятьсот"."""
    if not 0 <= n <= 999_999:
        raise ValueError(f"number out of range for words: {n}")
    if n == 0:
        return "ноль" if lang == "ru" else "zero"
    thousands, rest = divmod(n, 1000)
    words: list[str] = []
    if lang == "ru":
        if thousands:
            words += _ru_triple(thousands, feminine=True)
            words.append(plural_ru(thousands, "тысяча", "тысячи", "тысяч"))
        words += _ru_triple(rest, feminine)
    elif lang == "en":
        if thousands:
            words += [*_en_triple(thousands), "thousand"]
        words += _en_triple(rest)
    else:
        raise ValueError(f"no number words for language {lang!r}")
    return " ".join(words)


# currency -> (ru one, few, many, feminine), (en one, many)
_CURRENCIES: dict[str, tuple[tuple[str, str, str, bool], tuple[str, str]]] = {
    "RUB": (("рубль", "рубля", "рублей", False), ("rouble", "roubles")),
    "USD": (("доллар", "доллара", "долларов", False), ("dollar", "dollars")),
    "EUR": (("евро", "евро", "евро", False), ("euro", "euros")),
}
CURRENCIES = tuple(_CURRENCIES)


def money_words(amount: int, currency: str, lang: str) -> str:
    """A whole amount with its currency: "две тысячи пятьсот рублей", "five hundred roubles"."""
    if currency not in _CURRENCIES:
        raise ValueError(f"unknown currency {currency!r} (known: {', '.join(CURRENCIES)})")
    ru, en = _CURRENCIES[currency]
    if lang == "ru":
        return f"{cardinal(amount, 'ru', feminine=ru[3])} {plural_ru(amount, *ru[:3])}"
    return f"{cardinal(amount, lang)} {en[0] if amount == 1 else en[1]}"


# --- digits -------------------------------------------------------------------------------

DIGIT_WORDS = {
    "ru": ("ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
}


# --- dates --------------------------------------------------------------------------------

_RU_ORD_STEMS = (
    "перв", "втор", "трет", "четвёрт", "пят", "шест", "седьм", "восьм", "девят", "десят",
    "одиннадцат", "двенадцат", "тринадцат", "четырнадцат", "пятнадцат", "шестнадцат",
    "семнадцат", "восемнадцат", "девятнадцат", "двадцат",
)  # fmt: skip
RU_MONTHS_GEN = (
    "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
    "октября", "ноября", "декабря",
)  # fmt: skip
EN_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_EN_ORD = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth", "twentieth",
)  # fmt: skip


def _ru_ordinal(n: int, case: Literal["nom", "gen"]) -> str:
    """Neuter ordinal, as for a date: 1 -> "первое" / "первого", 23 -> "двадцать третье"."""
    if n in (30, 31):
        head, n = ("тридцать ", n - 30) if n == 31 else ("", 0)
        stem = "тридцат" if n == 0 else _RU_ORD_STEMS[0]
    elif n > 20:
        head, stem = "двадцать ", _RU_ORD_STEMS[n - 21]
    else:
        head, stem = "", _RU_ORD_STEMS[n - 1]
    soft = stem == "трет"
    ending = ("ье" if soft else "ое") if case == "nom" else ("ьего" if soft else "ого")
    return f"{head}{stem}{ending}"


def _en_ordinal(n: int) -> str:
    if n <= 20:
        return _EN_ORD[n - 1]
    if n == 30:
        return "thirtieth"
    tens = "twenty" if n < 30 else "thirty"
    return f"{tens}-{_EN_ORD[n % 10 - 1]}"


def date_words(day: dt.date, lang: str, case: Literal["nom", "gen"] = "gen") -> str:
    """"первого мая" (gen, after "с"/"до" or as "on"), "первое мая" (nom); "May first"."""
    if lang == "ru":
        return f"{_ru_ordinal(day.day, case)} {RU_MONTHS_GEN[day.month - 1]}"
    if lang == "en":
        return f"{EN_MONTHS[day.month - 1]} {_en_ordinal(day.day)}"
    raise ValueError(f"no date words for language {lang!r}")
