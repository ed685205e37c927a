"""Rules on the words of a turn that change when the turn ends.

A caller dictating a phone number pauses between digit groups ("восемь девятьсот
шестнадцать ... сто двадцать три"); ending the turn at the first pause cuts the number
in half. If a transcript ends in a run of digits (or number words), the turn waits a
little longer for the rest, even when the digits already look like a whole number: on a cut
of a number dictated digit by digit Whisper can double a digit ("8-9-2-6 2-0-0 4-7-1-1" for
ten of eleven), and taking that for a whole number answered before the last digit (a fresh
clone's real-call test caught it).
"""

from __future__ import annotations

import re

from ari_app.mind.intents import is_goodbye

_NUMBER_WORDS = {
    # Russian cardinals as Whisper writes them when it does not use digits
    "ноль", "нуль", "один", "одна", "два", "две", "три", "четыре", "пять", "шесть", "семь",
    "восемь", "девять", "десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать",
    "пятнадцать", "шестнадцать", "семнадцать", "восемнадцать", "девятнадцать", "двадцать",
    "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят", "девяносто",
    "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот", "восемьсот",
    "девятьсот",
    # English
    "zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    "hundred", "double", "triple",
}  # fmt: skip

_TOKEN = re.compile(r"[0-9]+|[^\W\d_]+", re.UNICODE)


def trailing_digit_run(text: str) -> int:
    """How many number tokens (digit groups or number words) end the text:
    2 for "мой номер 8 916", 3 for "восемь девятьсот шестнадцать", 0 for "в 5 часов"."""
    tokens = _TOKEN.findall(text.lower().replace("ё", "е"))
    count = 0
    for token in reversed(tokens):
        if token.isdigit() or token in _NUMBER_WORDS:
            count += 1
        else:
            break
    return count


def ends_mid_number(text: str, min_tokens: int = 1) -> bool:
    """True when the caller seems to have stopped in the middle of dictating a number."""
    return trailing_digit_run(text) >= min_tokens


# Words after which a sentence cannot end: a caller who stops on one of them has paused
# mid phrase ("Скажите, а в ..." / "I'd like to ..."), whatever the sound of it says.
_PHRASE_GOES_ON = {
    "и", "а", "но", "или", "либо", "что", "чтобы", "если", "когда", "потому", "как", "где",
    "в", "во", "на", "с", "со", "к", "ко", "по", "о", "об", "от", "до", "из", "за", "для",
    "у", "при", "про", "через", "без", "над", "под", "между", "мой", "моя", "мое", "мои",
    "ваш", "ваша", "наш", "это", "ну", "вот", "не", "ни", "очень", "какой", "какая", "какие",
    # "Здравствуйте, подскажите. [0.4 s] ...": asking to be told needs what to tell
    "подскажите", "подскажи", "скажите", "скажи", "расскажите", "tell",
    "and", "or", "but", "so", "because", "if", "when", "that", "to", "the", "a", "an", "of",
    "for", "with", "in", "on", "at", "from", "by", "about", "my", "your", "our", "is", "are",
    "was", "um", "uh", "er", "like", "than", "into", "would", "could", "can", "will",
}  # fmt: skip


def ends_mid_phrase(text: str) -> bool:
    """True when the words stop where a sentence cannot end: on a conjunction, a
    preposition or the like, or on a comma or dash."""
    stripped = text.rstrip()
    if stripped.endswith((",", "-", "—", "–")):
        return True
    if stripped.endswith("?"):  # asked in full ("Which folder should I save it to?")
        return False
    tokens = _TOKEN.findall(stripped.lower().replace("ё", "е"))
    return bool(tokens) and tokens[-1] in _PHRASE_GOES_ON


def asks_in_full(text: str) -> bool:
    """The words are a whole question ("Вы работаете в субботу?"): a caller who asked one
    and paused has finished, whatever the sound of it says. Measured on the labelled human
    set (`scripts/bench_turn_end.py`) it ends more complete turns at the pause and no more
    incomplete ones than the end-of-turn model alone."""
    stripped = text.rstrip()
    return stripped.endswith("?") and not ends_mid_number(stripped)


_CLAUSE_END = re.compile(r"[.!?…,;:—–]+")


def says_goodbye(text: str, language: str) -> bool:
    """The words end with a farewell ("Спасибо, до свидания!", "Thank you. Goodbye."): a
    caller who said goodbye and paused has finished. A bare thanks is not one (it comes
    before a question as often as before a goodbye), nor a farewell with more words after
    it ("До свидания. Благодарим за ...", "до свидания, и ещё"): the last clause is the
    farewell."""
    clauses = [c for c in _CLAUSE_END.split(text) if c.strip()]
    return (bool(clauses) and not ends_mid_phrase(text)
            and is_goodbye(clauses[-1], language, thanks=False))


def says_all(text: str, language: str) -> bool:
    """The words guessed at a pause say the caller has finished: a whole question, or a
    goodbye."""
    return asks_in_full(text) or says_goodbye(text, language)
