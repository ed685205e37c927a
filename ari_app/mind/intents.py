"""What the caller wants, from Whisper's noisy words: cue lexicons matched on normalised
word starts, in the call's language first and the other one second.

Only generic cues live here (hours, goodbye, yes/no, "connect me", "take a message"); the
persona's own vocabulary (FAQ, services, staff names) is matched in `facts` and `staff`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from ari_app.mind.words import DAYS

_PUNCT_RE = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lowercase, ё -> е, apostrophes dropped, other punctuation to spaces, spaces collapsed."""
    text = text.lower().replace("ё", "е")
    text = re.sub(r"['’`ʼ]", "", text)
    text = _PUNCT_RE.sub(" ", text)
    return _SPACE_RE.sub(" ", text).strip()


def has_phrase(text: str, phrase: str) -> bool:
    """`phrase` occurs in normalised `text` as whole words."""
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def has_stem(words: list[str], stems: tuple[str, ...]) -> bool:
    return any(word.startswith(stem) for word in words for stem in stems)


def _langs(language: str) -> tuple[str, str]:
    return (language, "en" if language == "ru" else "ru")


# --- closing the call -------------------------------------------------------------------

_GOODBYE_PHRASES = {
    "ru": (
        "до свидания", "до свиданья", "до свидание", "досвидания", "досвиданья",
        "всего доброго", "всего хорошего", "всего наилучшего", "до встречи", "прощайте",
        "это все", "больше ничего", "больше вопросов нет", "вопросов больше нет",
    ),
    "en": (
        "goodbye", "good bye", "bye", "thats all", "that is all", "nothing else",
        "have a nice day", "have a good day",
    ),
}  # fmt: skip
# Russian "пока" is a farewell only at the end ("ну пока"), else it means "for now/while".
_GOODBYE_TAIL = {"ru": ("пока",), "en": ("cheers",)}
_THANKS = {"спасибо", "благодарю", "thank", "thanks"}
_THANKS_FILLER = {
    "большое", "огромное", "вам", "ну", "ок", "окей", "хорошо", "понятно", "ясно", "да", "все",
    "you", "very", "much", "a", "lot", "ok", "okay", "great", "so", "yes", "alright", "fine",
}  # fmt: skip

# Whisper's well-known hallucinations on silence or noise: treated as not understood.
_HALLUCINATIONS = (
    "продолжение следует", "субтитры", "спасибо за просмотр", "подписывайтесь",
    "thank you for watching", "thanks for watching", "subtitles by",
)  # fmt: skip


def is_noise(text: str) -> bool:
    """Empty, or one of Whisper's hallucinations on silence."""
    norm = normalise(text)
    return not norm or any(has_phrase(norm, h) for h in _HALLUCINATIONS)


def is_goodbye(text: str, language: str, *, thanks: bool = True) -> bool:
    """A farewell ("до свидания", "ну пока", "that's all"); with `thanks`, a bare thanks
    ("Спасибо большое") too."""
    norm = normalise(text)
    words = norm.split()
    if not words:
        return False
    for lang in _langs(language):
        if any(has_phrase(norm, p) for p in _GOODBYE_PHRASES[lang]):
            return True
        if words[-1] in _GOODBYE_TAIL[lang]:
            return True
    return thanks and any(w in _THANKS for w in words) and all(
        w in _THANKS | _THANKS_FILLER for w in words
    )


# --- yes / no / cancel --------------------------------------------------------------------

_YES = {
    "да", "ага", "угу", "конечно", "верно", "правильно", "давайте", "давай", "хорошо", "можно",
    "точно", "именно", "запишите", "записывайте", "согласен", "согласна", "ладно",
    "yes", "yeah", "yep", "yup", "sure", "correct", "right", "ok", "okay", "please", "exactly",
    "absolutely", "certainly", "fine",
}  # fmt: skip
_NO = {"нет", "неверно", "неправильно", "не", "no", "nope", "not", "wrong", "dont", "nah"}
_CANCEL_STRICT = (
    "отмена", "отменить", "отмените", "передумал", "передумала", "забудьте",
    "never mind", "nevermind", "cancel", "forget it",
)  # fmt: skip
_CANCEL_PHRASES = (*_CANCEL_STRICT, "не надо", "не нужно", "no thanks", "dont bother")


def yes_no(text: str) -> bool | None:
    """True for a yes, False for a no, None when it is neither (or both)."""
    words = normalise(text).split()
    if not words:
        return None
    if words[0] in _NO:
        return False
    has_yes = any(w in _YES for w in words)
    has_no = any(w in _NO for w in words)
    if has_yes != has_no:
        return has_yes
    return None


def is_cancel(text: str, *, strict: bool = False) -> bool:
    """The caller calls something off ("не надо", "never mind"). `strict` (after a yes/no
    question, where "нет, не надо" is just a no) takes only explicit words ("отмена")."""
    norm = normalise(text)
    return any(has_phrase(norm, p) for p in (_CANCEL_STRICT if strict else _CANCEL_PHRASES))


# --- requests -----------------------------------------------------------------------------

_TRANSFER = {
    "ru": ("соедин", "переключ", "перевед", "переве", "свяж", "позов", "пригласит",
           "поговорит", "услышат", "связат"),
    "en": ("connect", "transfer", "speak", "talk", "extension"),
}  # fmt: skip
_MESSAGE = {
    "ru": ("сообщени", "передайт", "передат", "перезвон", "запиш", "записат", "оставит"),
    "en": ("message", "callback"),
}  # fmt: skip
_MESSAGE_PHRASES = ("call me back", "call back", "get back to me", "leave a message",
                    "pass on", "take a note")
_PRICE = {
    "ru": ("стоит", "стоимост", "цена", "цены", "цену", "ценам", "ценах", "ценник", "прайс",
           "почем", "расцен", "тариф", "стоят"),
    "en": ("cost", "price", "pricing", "charge"),
}  # fmt: skip
_PRICE_PHRASES = ("how much", "fee", "fees", "rates", "сколько будет", "сколько за")
_ADDRESS = {
    "ru": ("адрес", "находит", "расположен", "добрат", "доехат", "проехат", "пройти"),
    "en": ("address", "located", "location", "directions"),
}  # fmt: skip
_ADDRESS_PHRASES = ("где вы", "where are you", "how do i get", "how to get", "find you",
                    "get there")
_SERVICES = {
    "ru": ("услуг", "занимает", "предлагает", "ассортимент", "делаете", "продает"),
    "en": ("service", "offer", "provide", "sell"),
}  # fmt: skip
_SERVICES_PHRASES = ("what do you do", "what does your company do", "чем вы занимаетесь")
_GREETING = {"здравствуйте", "здрасте", "здравствуй", "добрый", "привет", "алло", "алле",
             "hello", "hi", "hey", "good", "morning", "afternoon", "evening", "день", "утро",
             "вечер", "доброе"}  # fmt: skip

# Word-start stems that mark an hours question.
_HOURS = {
    "ru": ("час", "работ", "рабоч", "график", "откры", "закры", "режим", "когда", "скольк",
           "расписан", "выходн", "праздн"),
    "en": ("hour", "ours", "open", "close", "closing", "schedul", "when", "time", "working",
           "business", "holiday"),
}  # fmt: skip


def _cue(text: str, language: str, stems: dict[str, tuple[str, ...]],
         phrases: tuple[str, ...] = ()) -> bool:
    norm = normalise(text)
    words = norm.split()
    if any(has_phrase(norm, p) for p in phrases):
        return True
    return any(has_stem(words, stems[lang]) for lang in _langs(language))


def wants_transfer(text: str, language: str) -> bool:
    return _cue(text, language, _TRANSFER, ("put me through", "can i speak", "пожалуйста с"))


def wants_message(text: str, language: str) -> bool:
    return _cue(text, language, _MESSAGE, _MESSAGE_PHRASES)


def asks_price(text: str, language: str) -> bool:
    return _cue(text, language, _PRICE, _PRICE_PHRASES)


def asks_address(text: str, language: str) -> bool:
    return _cue(text, language, _ADDRESS, _ADDRESS_PHRASES)


def asks_services(text: str, language: str) -> bool:
    return _cue(text, language, _SERVICES, _SERVICES_PHRASES)


def asks_hours(text: str, language: str) -> bool:
    return _cue(text, language, _HOURS)


def only_greeting(text: str) -> bool:
    words = normalise(text).split()
    return bool(words) and all(w in _GREETING for w in words)


# --- what an hours question is about -------------------------------------------------------

_DAY_STEMS = {
    "mon": ("понедельн", "monday"), "tue": ("вторн", "tuesday"), "wed": ("сред", "wednesday"),
    "thu": ("четверг", "thursday"), "fri": ("пятниц", "friday"), "sat": ("суббот", "saturday"),
    "sun": ("воскресен", "sunday"),
}  # fmt: skip
_MONTH_STEMS = (
    ("январ", "january"), ("феврал", "february"), ("март", "march"), ("апрел", "april"),
    ("ма", "may"), ("июн", "june"), ("июл", "july"), ("август", "august"),
    ("сентябр", "september"), ("октябр", "october"), ("ноябр", "november"),
    ("декабр", "december"),
)  # fmt: skip
_RU_ORDINAL_STEMS = (
    "перв", "втор", "трет", "четверт", "пят", "шест", "седьм", "восьм", "девят", "десят",
    "одиннадцат", "двенадцат", "тринадцат", "четырнадцат", "пятнадцат", "шестнадцат",
    "семнадцат", "восемнадцат", "девятнадцат", "двадцат",
)  # fmt: skip
_EN_ORDINALS = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth", "twentieth",
)  # fmt: skip

When = Literal["now", "today", "tomorrow", "day", "date", "holidays", "week"]


@dataclass(frozen=True)
class HoursQuestion:
    when: When
    day: dt.date | None = None  # for "day" and "date"


def _ordinal(word: str) -> int | None:
    """1-20 from an ordinal or digits: "первого", "1", "1st", "first" (longest stem wins,
    so "девятнадцатого" is 19, not 9)."""
    digits = word.removesuffix("st").removesuffix("nd").removesuffix("rd").removesuffix("th")
    if digits.isdigit():
        return int(digits)
    best: tuple[int, int] | None = None  # (stem length, number)
    for n, stem in enumerate(_RU_ORDINAL_STEMS, 1):
        if word.startswith(stem) and (best is None or len(stem) > best[0]):
            best = (len(stem), n)
    if best is not None:
        return best[1]
    if word.startswith("тридцат") or word == "thirtieth":
        return 30
    for n, name in enumerate(_EN_ORDINALS, 1):
        if word == name:
            return n
    return None


def _day_number(words: list[str], i: int) -> int | None:
    """The day of month said as word i-1 ("первого", "1", "1st"), with a preceding
    "двадцать"/"twenty"/"тридцать"/"thirty" for 21-31."""
    if not 0 < i <= len(words):
        return None
    n = _ordinal(words[i - 1])
    if n is None:
        return None
    if n < 10 and i >= 2 and words[i - 2] in ("двадцать", "twenty", "тридцать", "thirty"):
        n += 20 if words[i - 2] in ("двадцать", "twenty") else 30
    return n if 1 <= n <= 31 else None


def _date_in(words: list[str], today: dt.date) -> dt.date | None:
    """A date said as "первого мая", "1 мая", "May 1st", "the first of May": the next one."""
    for i, word in enumerate(words):
        for month, (ru, en) in enumerate(_MONTH_STEMS, 1):
            short = ru == "ма"  # "мая"/"май", not "мастер"
            if not (word == en or (word.startswith(ru) and (not short or word in ("мая", "май")))):
                continue
            day = _day_number(words, i)
            if day is None and i >= 2 and words[i - 1] == "of":
                day = _day_number(words, i - 1)
            if day is None:
                day = _day_number(words, i + 2)
            if day is None:
                continue
            for year in (today.year, today.year + 1):
                try:
                    found = dt.date(year, month, day)
                except ValueError:
                    break
                if found >= today:
                    return found
    return None


def hours_question(text: str, today: dt.date) -> HoursQuestion:
    """What an hours question asks about, in either language."""
    norm = normalise(text)
    words = norm.split()
    found = _date_in(words, today)
    if found is not None:
        return HoursQuestion("date", found)
    if has_stem(words, ("праздн", "holiday", "новогод", "new year")) or has_phrase(
        norm, "new year"
    ):
        return HoursQuestion("holidays")
    for offset, stems in ((1, ("завтра", "tomorrow")),):
        if has_stem(words, stems) and not has_stem(words, ("послезавтра",)):
            return HoursQuestion("tomorrow", today + dt.timedelta(days=offset))
    for name, stems in _DAY_STEMS.items():
        if has_stem(words, stems):
            ahead = (DAYS.index(name) - today.weekday()) % 7
            return HoursQuestion("day", today + dt.timedelta(days=ahead))
    if has_stem(words, ("сейчас", "now", "still", "еще", "уже", "right")):
        return HoursQuestion("now")
    if has_stem(words, ("сегодн", "today", "tonight")) or (
        has_stem(words, ("скольк", "until", "till")) and not has_stem(words, ("час",))
    ):
        return HoursQuestion("today", today)
    return HoursQuestion("week")
