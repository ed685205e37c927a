"""Taking a message: the Message handed on, and the multi-turn form that fills it.

The form asks for a name, a callback number (the caller's own number offered first, a
dictated one read back digit by digit), the reason and the urgency, then reads it all back
for confirmation. Digits keyed on the phone (ended with #) count as a dictated number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from ari_app.mind.intents import is_cancel, normalise, yes_no
from ari_app.mind.phone import MAX_DIGITS, MIN_DIGITS, PhoneNumber, extract_digits, parse_phone
from ari_app.mind.phrases import PhraseBook

Urgency = Literal["normal", "urgent"]
Step = Literal["name", "caller_id", "number", "number_confirm", "reason", "urgency",
               "confirm", "fix", "done"]  # fmt: skip

_URGENT_STEMS = ("срочн", "немедленн", "urgent", "asap", "emergenc", "immediately")
_NAME_PREFIXES = (
    "меня зовут", "мое имя", "моя фамилия", "это", "я", "зовут",
    "my name is", "my names", "this is", "i am", "im", "its", "it is", "name is",
)  # fmt: skip
_WORD_RE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)?", re.UNICODE)
_NAME_TAIL = {"спасибо", "пожалуйста", "thanks", "thank", "you", "please"}
_TOOL_KEYS = {"name", "callback_number", "reason", "urgency", "caller_id", "language",
              "recipient"}  # fmt: skip


def _urgent(text: str) -> bool:
    return any(w.startswith(_URGENT_STEMS) for w in normalise(text).split())


@dataclass(frozen=True)
class Message:
    name: str | None
    callback_number: str | None
    reason: str | None
    urgency: Urgency
    caller_id: str | None
    language: str
    recipient: str | None = None  # the staff member or department it is for, if any
    # False: the caller left before confirming it (a number read back and not yet agreed)
    confirmed: bool = True

    @classmethod
    def from_tool_args(cls, args: Mapping[str, Any]) -> Message:
        """A message from an LLM tool call's arguments; the callback number must parse
        (digits or number words, 7-15 digits). ValueError names the bad argument."""
        unknown = set(args) - _TOOL_KEYS
        if unknown:
            raise ValueError(f"unknown argument(s): {', '.join(sorted(unknown))}")

        def text(key: str) -> str | None:
            value = args.get(key)
            if value is None or (isinstance(value, str) and not value.strip()):
                return None
            if not isinstance(value, (str, int)):
                raise ValueError(f"{key}: expected text, got {type(value).__name__}")
            return str(value).strip()

        number = text("callback_number")
        if number is not None:
            parsed = parse_phone(number)
            if parsed is None:
                raise ValueError(
                    f"callback_number: {number!r} is not a phone number "
                    f"({MIN_DIGITS}-{MAX_DIGITS} digits)"
                )
            number = str(parsed)
        urgency = args.get("urgency", "normal")
        if isinstance(urgency, bool):
            urgency = "urgent" if urgency else "normal"
        if urgency not in ("normal", "urgent"):
            raise ValueError(f"urgency: expected 'normal' or 'urgent', got {urgency!r}")
        language = text("language") or "ru"
        if language not in ("ru", "en"):
            raise ValueError(f"language: expected 'ru' or 'en', got {language!r}")
        if not (text("name") or number or text("reason")):
            raise ValueError("a message needs at least a name, a callback number or a reason")
        return cls(text("name"), number, text("reason"), urgency, text("caller_id"), language,
                   text("recipient"))


def extract_name(text: str) -> str | None:
    """The name in "Меня зовут Иван Петров" / "This is John": title-cased, at most 4 words."""
    words = _WORD_RE.findall(text.replace("'", "").replace("’", ""))
    norm = normalise(" ".join(words))
    for prefix in _NAME_PREFIXES:
        if norm == prefix or norm.startswith(prefix + " "):
            words = words[len(prefix.split()):]
            break
    while words and normalise(words[-1]) in _NAME_TAIL:
        words.pop()
    if not words or len(words) > 4 or yes_no(" ".join(words)) is not None:
        return None
    return " ".join(w[:1].upper() + w[1:] for w in words)


@dataclass(frozen=True)
class FormResult:
    text: str
    message: Message | None = None  # set when the caller confirmed the message
    cancelled: bool = False


class MessageForm:
    """One message being taken; feed it the caller's answers."""

    def __init__(self, say: PhraseBook, language: str, *, caller_id: str | None,
                 recipient: str | None = None, reason: str | None = None,
                 name: str | None = None) -> None:
        self.say = say
        self.language = language
        self.caller_id = caller_id
        self.own_number = parse_phone(caller_id or "")
        self.recipient = recipient
        self.name = name
        self.number: PhoneNumber | None = None
        self.reason = reason
        self.urgency: Urgency = "urgent" if reason and _urgent(reason) else "normal"
        self.urgency_known = self.urgency == "urgent"
        self.step: Step = "name"
        self._fixing = False  # a field is being corrected: go back to the confirmation
        self._candidate: PhoneNumber | None = None
        self._partial = ""  # digits of a number dictated in parts
        self._keys = ""  # digits keyed on the phone

    # --- questions ------------------------------------------------------------------------
    def start(self) -> str:
        """The opening line: "I'll take a message" and the first question."""
        return f"{self.say('message_start')} {self._next()}"

    def prompt(self) -> str:
        """The current question again."""
        return {
            "name": lambda: self.say("ask_name"),
            "caller_id": lambda: self.say("ask_caller_id"),
            "number": lambda: self.say("ask_number"),
            "number_confirm": self._readback,
            "reason": lambda: self.say("ask_reason"),
            "urgency": lambda: self.say("ask_urgency"),
            "confirm": self._confirm_question,
            "fix": lambda: self.say("which_fix"),
            "done": lambda: self.say("anything_else"),
        }[self.step]()

    def _readback(self) -> str:
        assert self._candidate is not None
        return self.say("number_readback", number=self._candidate.spoken(self.language))

    def _confirm_question(self) -> str:
        ru = self.language == "ru"
        parts = []
        if self.name:
            parts.append(f"имя — {self.name}" if ru else f"name {self.name}")
        if self.number is not None:
            spoken = self.number.spoken(self.language)
            parts.append(f"номер — {spoken}" if ru else f"number {spoken}")
        if self.reason:
            reason = self.reason.rstrip(".!?")
            if reason[1:2].islower():  # "По поводу" -> "по поводу", not "СДЭК" -> "сДЭК"
                reason = reason[:1].lower() + reason[1:]
            parts.append(f"сообщение — {reason}" if ru else f"message: {reason}")
        if self.urgency == "urgent":
            parts.append("срочно" if ru else "urgent")
        return self.say("confirm", summary="; ".join(parts))

    def _next(self) -> str:
        """Ask for the first missing field, or for confirmation."""
        if self._fixing or (self.name and self.number and self.reason and self.urgency_known):
            self._fixing = False
            self.step = "confirm"
            return self._confirm_question()
        if not self.name:
            self.step = "name"
            return self.say("ask_name")
        if self.number is None:
            self.step = "caller_id" if self.own_number is not None else "number"
            return self.say("ask_caller_id" if self.step == "caller_id" else "ask_number")
        if not self.reason:
            self.step = "reason"
            return self.say("ask_reason")
        self.step = "urgency"
        return self.say("ask_urgency")

    # --- answers --------------------------------------------------------------------------
    def answer(self, text: str) -> FormResult:
        yes_no_step = self.step in ("caller_id", "number_confirm", "urgency", "confirm")
        if is_cancel(text, strict=yes_no_step):
            return FormResult(self.say("message_cancelled"), cancelled=True)
        return FormResult(getattr(self, f"_on_{self.step}")(text), self._finished())

    def _finished(self) -> Message | None:
        return self.message() if self.step == "done" else None

    def _on_name(self, text: str) -> str:
        name = extract_name(text)
        if name is None:
            return self.say("ask_name")
        self.name = name
        return self._next()

    def _on_caller_id(self, text: str) -> str:
        if parse_phone(text) is not None:
            return self._on_number(text)
        answer = yes_no(text)
        if answer is True:
            self.number = self.own_number
            return self._next()
        if answer is False:
            self.step = "number"
            return self.say("ask_number")
        return self.say("ask_caller_id")

    def _on_number(self, text: str) -> str:
        digits, plus = extract_digits(text)
        combined = self._partial + digits
        if not digits:
            self._partial = ""
            self.step = "number"
            return self.say("number_too_short" if combined else "number_none")
        if len(combined) > MAX_DIGITS:
            self._partial = ""
            return self.say("number_too_long")
        if len(combined) < MIN_DIGITS:
            self._partial = combined
            self.step = "number"
            return self.say("number_go_on")
        plus = plus and not self._partial  # a "+" counts only before the first digits
        self._partial = ""
        self._candidate = PhoneNumber(combined, plus)
        self.step = "number_confirm"
        return self._readback()

    def _on_number_confirm(self, text: str) -> str:
        if parse_phone(text) is not None:
            return self._on_number(text)
        answer = yes_no(text)
        if answer is True:
            self.number = self._candidate
            return self._next()
        if answer is False:
            self.step = "number"
            return self.say("number_again")
        return self._readback()

    def _on_reason(self, text: str) -> str:
        words = normalise(text).split()
        if not words or (len(words) <= 2 and yes_no(text) is not None):
            return self.say("ask_reason")
        self.reason = text.strip()
        if _urgent(text):
            self.urgency, self.urgency_known = "urgent", True
        return self._next()

    def _on_urgency(self, text: str) -> str:
        answer = yes_no(text)
        urgent = answer if answer is not None else _urgent(text)
        self.urgency = "urgent" if urgent else "normal"
        self.urgency_known = True
        return self._next()

    def _on_confirm(self, text: str) -> str:
        if parse_phone(text) is not None:
            self._fixing = True
            return self._on_number(text)
        answer = yes_no(text)
        if answer is True:
            self.step = "done"
            if self.urgency == "urgent":
                return self.say("message_taken_urgent")
            return self.say("message_taken")
        if answer is False and not normalise(text).split()[1:]:
            self.step = "fix"
            return self.say("which_fix")
        if answer is False or self._wants_fix(text):
            return self._on_fix(text)
        return self._confirm_question()

    def _wants_fix(self, text: str) -> bool:
        return self._fix_field(text) is not None

    @staticmethod
    def _fix_field(text: str) -> str | None:
        words = normalise(text).split()
        for field, stems in (("name", ("имя", "имени", "зовут", "name")),
                             ("number", ("номер", "телефон", "number", "phone")),
                             ("reason", ("сообщен", "вопрос", "причин", "message", "reason")),
                             ("urgency", ("срочн", "urgen"))):
            if any(w.startswith(stems) for w in words):
                return field
        return None

    def _on_fix(self, text: str) -> str:
        if parse_phone(text) is not None:
            self._fixing = True
            return self._on_number(text)
        field = self._fix_field(text)
        if field is None:
            self.step = "fix"
            return self.say("which_fix")
        self._fixing = True
        if field == "urgency":
            self.urgency = "normal" if self.urgency == "urgent" else "urgent"
            return self._next()
        if field == "name":
            self.step = "name"
            return self.say("ask_name")
        if field == "number":
            self.step = "number"
            return self.say("ask_number")
        self.step = "reason"
        return self.say("ask_reason")

    # --- keys -----------------------------------------------------------------------------
    def dtmf(self, digit: str) -> FormResult | None:
        """Keys while the number is asked for: digits collect, # ends, * starts over."""
        if self.step not in ("caller_id", "number", "number_confirm"):
            return None
        if digit == "*":
            self._keys = ""
            return None
        if digit == "#":
            keys, self._keys = self._keys, ""
            if not keys:
                return None
            self.step = "number"
            return FormResult(self._on_number(keys))
        if digit.isdigit():
            self._keys += digit
        return None

    # --- the result -----------------------------------------------------------------------
    def message(self) -> Message:
        return Message(
            name=self.name,
            callback_number=str(self.number) if self.number is not None else None,
            reason=self.reason,
            urgency=self.urgency,
            caller_id=self.caller_id or None,
            language=self.language,
            recipient=self.recipient,
        )

    def partial(self) -> Message | None:
        """What was gathered so far, if worth passing on (the caller hung up or left); a
        number read back and not yet confirmed counts, the best the staff has to call."""
        number = self.number
        if number is None and self.step == "number_confirm":
            number = self._candidate
        if not (self.name or number or self.reason):
            return None
        return replace(self.message(), confirmed=False,
                       callback_number=str(number) if number is not None else None)
