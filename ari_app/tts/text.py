"""Sentence splitting for streaming TTS (Russian and English).

The first sentence is synthesized and played while the rest is still being synthesized, so
the split must be cheap and conservative: a wrong split only costs a small pause, a missed
split only delays the first audio.
"""

from __future__ import annotations

import re

# Abbreviations after which a period never ends a sentence (a name or number follows).
_NEVER_END = frozenset(
    # English titles and references
    "mr mrs ms dr prof st sr jr vs mt ft vol fig approx dept ext tel "
    # Russian: town, street, avenue, house, flat, building, page, named-after, professor,
    # academician, extension, phone, see, e.g., figure, table, saint
    "г гг ул пр пер просп д кв корп стр им проф акад доб тел см напр рис табл илл св".split()
)
# Abbreviations that may end a sentence: split only if the next word starts upper-case.
_MAY_END = frozenset(
    "etc e.g i.e a.m p.m inc ltd co jan feb mar apr jun jul aug sep sept oct nov dec "
    "т.е т.д т.п т.к др руб коп тыс млн млрд мин сек ч н.э".split()
)

# A terminator run (. ! ? … possibly repeated), closing quotes/brackets, then whitespace.
_BOUNDARY = re.compile(r"([.!?…]+)([\"'»”’)\]]*)(\s+)")
_WORD_BEFORE = re.compile(r"([\w.]+)$")

MIN_SENTENCE_CHARS = 6


def _alnum_len(text: str) -> int:
    return sum(ch.isalnum() for ch in text)


def _is_boundary(before: str, terminator: str, after: str) -> bool:
    """Decide whether `before` + `terminator` ends a sentence, given the text `after`."""
    nxt = after.lstrip()[:1]
    if not nxt:
        return True
    if "!" in terminator or "?" in terminator or "…" in terminator or len(terminator) > 1:
        # "Wait... what" continues in lower case; otherwise these end a sentence.
        return not nxt.islower()
    match = _WORD_BEFORE.search(before)
    original = match.group(1) if match else ""
    word = original.lower()
    last = word.rsplit(".", 1)[-1]
    if last in _NEVER_END and "." not in word:
        return False
    if nxt.islower():
        # "т. е. мы", "г. москва" in lower case, "e.g. this": a sentence does not start here.
        return False
    if word in _MAY_END or last in _MAY_END:
        return True
    if len(last) == 1 and last.isalpha() and original[-1:].isupper():
        # An initial: "A. S. Pushkin", "А. С. Пушкин".
        return False
    return not (last.isdigit() and nxt.isdigit())


def _split_block(block: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(block):
        end = match.end(2)
        before = block[start : match.start(1)]
        if _is_boundary(before, match.group(1), block[match.end(3) :]):
            pieces.append(block[start:end].strip())
            start = match.end(3)
    pieces.append(block[start:].strip())
    return [p for p in pieces if p]


def _merge_short(pieces: list[str], min_chars: int) -> list[str]:
    merged: list[str] = []
    pending = ""
    for piece in pieces:
        current = f"{pending} {piece}" if pending else piece
        if _alnum_len(current) < min_chars:
            pending = current
            continue
        merged.append(current)
        pending = ""
    if pending:
        if merged:
            merged[-1] = f"{merged[-1]} {pending}"
        elif _alnum_len(pending) > 0:
            merged.append(pending)
    return merged


def split_sentences(text: str, min_chars: int = MIN_SENTENCE_CHARS) -> list[str]:
    """Split `text` into sentences for TTS.

    Splits after . ! ? … (and runs of them) and at line breaks; keeps common Russian and
    English abbreviations ("т.е.", "г. Москва", "Mr. Smith", initials) inside the sentence;
    merges fragments with fewer than `min_chars` letters/digits into their neighbour.
    Whitespace inside a sentence is collapsed. Never returns empty strings.
    """
    pieces: list[str] = []
    for line in text.splitlines():
        block = " ".join(line.split())
        if block:
            pieces.extend(_split_block(block))
    pieces = [p for p in pieces if _alnum_len(p) > 0 or p.strip(" .!?…,;:-—")]
    return _merge_short(pieces, min_chars)
