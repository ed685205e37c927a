"""Rule-based, offline dialogue over a persona: greeting, hours, goodbye, fallback.

The caller's text comes from Whisper, so matching is on normalised word stems and is
tolerant to typical mishearings ("чувства работы", "opening ours").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ari_app.persona import Persona

Intent = Literal["hours", "goodbye", "not_understood", "unknown"]

# Word-start stems that mark an hours question.
_HOURS_STEMS: dict[str, tuple[str, ...]] = {
    "ru": (
        "час", "работ", "рабоч", "график", "откры", "закры", "режим", "когда", "скольк",
        "расписан", "выходн",
    ),
    "en": (
        "hour", "ours", "open", "close", "closing", "schedul", "when", "time", "working",
        "business",
    ),
}  # fmt: skip

# Farewell phrases matched anywhere in the normalised text (word boundaries on both sides).
_GOODBYE_PHRASES: dict[str, tuple[str, ...]] = {
    "ru": (
        "до свидания", "до свиданья", "до свидание", "досвидания", "досвиданья",
        "всего доброго", "всего хорошего", "всего наилучшего", "до встречи", "прощайте",
        "это все", "больше ничего", "больше вопросов нет",
    ),
    "en": (
        "goodbye", "good bye", "bye", "thats all", "that is all", "nothing else",
        "have a nice day", "have a good day",
    ),
}  # fmt: skip

# Short words that are a farewell only when they end the utterance ("ну пока", "спасибо, пока"),
# since Russian "пока" also means "for now / while".
_GOODBYE_TAIL = {"ru": ("пока",), "en": ("cheers",)}

# An utterance made only of these words, with a thanks among them, closes the call
# ("Спасибо большое", "Ok, thank you very much").
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

_PUNCT_RE = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lowercase, ё -> е, apostrophes dropped, other punctuation to spaces, spaces collapsed."""
    text = text.lower().replace("ё", "е")
    text = re.sub(r"['’`ʼ]", "", text)
    text = _PUNCT_RE.sub(" ", text)
    return _SPACE_RE.sub(" ", text).strip()


def _has_phrase(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


@dataclass(frozen=True)
class Reply:
    text: str
    intent: Intent
    end_call: bool = False


def classify(caller_text: str, language: str) -> Intent:
    """The intent of one caller utterance; words of both languages are recognised."""
    text = normalise(caller_text)
    if not text:
        return "not_understood"
    if any(_has_phrase(text, h) for h in _HALLUCINATIONS):
        return "not_understood"
    langs = [language] + [lang for lang in _HOURS_STEMS if lang != language]
    words = text.split()
    for lang in langs:
        if any(_has_phrase(text, p) for p in _GOODBYE_PHRASES.get(lang, ())):
            return "goodbye"
        if words[-1] in _GOODBYE_TAIL.get(lang, ()):
            return "goodbye"
    if any(w in _THANKS for w in words) and all(w in _THANKS | _THANKS_FILLER for w in words):
        return "goodbye"
    for lang in langs:
        stems = _HOURS_STEMS.get(lang, ())
        if any(word.startswith(stem) for word in words for stem in stems):
            return "hours"
    return "unknown"


class Dialogue:
    """One call's conversation in one language."""

    def __init__(self, persona: Persona, language: str) -> None:
        if language not in persona.languages:
            have = ", ".join(sorted(persona.languages))
            raise ValueError(f"persona has no texts in language {language!r} (has: {have})")
        self.persona = persona
        self.language = language
        self._hours = persona.hours_reply_text(language)

    def greeting(self) -> str:
        return self.persona.text("greeting", self.language)

    def goodbye(self) -> str:
        """The persona's farewell, for when the secretary ends the call herself."""
        return self.persona.text("goodbye", self.language)

    def reprompt(self) -> str:
        """Said when the caller has been silent for a while."""
        return self.persona.text("reprompt", self.language)

    def reply(self, caller_text: str) -> Reply:
        intent = classify(caller_text, self.language)
        if intent == "hours":
            return Reply(self._hours, intent)
        if intent == "goodbye":
            return Reply(self.persona.text("goodbye", self.language), intent, end_call=True)
        if intent == "not_understood":
            return Reply(self.persona.text("not_understood", self.language), intent)
        return Reply(self.persona.text("only_hours", self.language), intent)
