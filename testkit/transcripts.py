"""Comparing a transcript with its reference, for the benchmarks and tests on the human speech
set: words (a number word counts as its digits, so "пять" and "5" are one word), the word
edit distance, and whether every reference word was heard (by its first five letters, so
endings may differ; a word written apart counts too, "Good bye" for "Goodbye")."""

from __future__ import annotations

import re
from itertools import pairwise

from ari_app.mind.phone import extract_digits


def words(text: str) -> list[str]:
    """Lower-case words, letters and digits only, ё as е; a number word as its digits."""
    out = []
    for token in re.findall(r"[^\W_]+", text.lower().replace("ё", "е")):
        digits = extract_digits(token)[0] if token.isalpha() else ""
        out.append(digits or token)
    return out


def edits(ref: list[str], hyp: list[str]) -> int:
    """Word-level edit distance."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def holds_all(reference: str, text: str) -> bool:
    """Every word of `reference` is in `text` (compared by its first five letters), or two
    neighbours in `text` make it up ("good bye" for "goodbye")."""
    heard = words(text)
    said = {w[:5] for w in heard} | {(a + b)[:5] for a, b in pairwise(heard)}
    return all(w[:5] in said for w in words(reference))
