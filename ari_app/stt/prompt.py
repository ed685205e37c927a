"""Context for the recogniser: what the caller just heard, and the persona's own words.

A human listener knows what the secretary just asked and how the company and its people are
called; Whisper can be given the same as its previous text (`SpeechToText.transcribe(...,
prompt=...)`). `recogniser_prompt` joins the persona's words and the secretary's last
question into one such text, question last (the decoder attends most to what came last).
Which turns gain from which prompt is measured by `scripts/bench_stt_prompt.py`
(docs/benchmarks.md, docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ari_app.mind.persona import Persona


def persona_words(persona: Persona, lang: str) -> list[str]:
    """The names a caller may say, in `lang`: the company, the secretary, the staff, the
    departments and the services (each once, in that order)."""
    texts = [persona.company, persona.secretary_name]
    texts += [member.name for member in persona.staff]
    texts += [department.name for department in persona.departments.values()]
    texts += [service.name for service in persona.services]
    words: list[str] = []
    for text in texts:
        word = " ".join(text.get(lang, "").split())
        if word and word not in words:
            words.append(word)
    return words


def recogniser_prompt(question: str | None, words: Sequence[str] = ()) -> str | None:
    """The prompt text: the words as a comma-separated list (one sentence), then the question
    the caller is answering. None when there is neither."""
    parts = []
    listed = ", ".join(w.strip() for w in words if w.strip())
    if listed:
        parts.append(listed[:1].upper() + listed[1:] + ".")
    if question and question.strip():
        parts.append(" ".join(question.split()))
    return " ".join(parts) or None
