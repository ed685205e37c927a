"""A message the secretary took for the staff (the mind's `Message`, with the company, the
call and the time it was taken), and its text in the conversation's language.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ari_app.mind.message import Message

FIELDS = ("recipient", "name", "callback_number", "reason", "urgency", "caller_id")
# what the calls database keeps of a message (`CallStore.add_message`): the recipient is
# only a routing hint for the notifier
STORED = ("language", "name", "callback_number", "reason", "urgency", "caller_id", "confirmed")

_LABELS = {
    "ru": {
        "recipient": "Для кого",
        "name": "Имя",
        "callback_number": "Номер для обратного звонка",
        "reason": "Причина звонка",
        "urgency": "Срочность",
        "caller_id": "Номер звонившего (Caller ID)",
        "taken_at": "Время",
        "call_id": "Разговор",
        "missing": "не указано",
        "subject": "Сообщение от звонившего",
        "intro": "Секретарь приняла сообщение{company}.",
        "company": " для компании «{name}»",
        "urgent": "срочно",
        "normal": "не срочно",
        "unconfirmed": "не подтверждено",
        "unconfirmed_line": "Звонивший не подтвердил сообщение: разговор прервался раньше; "
        "проверьте номер, перезванивая.",
    },
    "en": {
        "recipient": "For",
        "name": "Name",
        "callback_number": "Call back on",
        "reason": "Reason for the call",
        "urgency": "Urgency",
        "caller_id": "Caller ID",
        "taken_at": "Taken at",
        "call_id": "Conversation",
        "missing": "not given",
        "subject": "Message from a caller",
        "intro": "The secretary took a message{company}.",
        "company": " for {name}",
        "urgent": "urgent",
        "normal": "not urgent",
        "unconfirmed": "not confirmed",
        "unconfirmed_line": "The caller did not confirm this message: the call ended first; "
        "check the number when calling back.",
    },
}

_URGENT = {"urgent", "high", "true", "yes", "срочно", "срочная", "срочный"}
_NORMAL = {"normal", "low", "false", "no", "не срочно", "обычная", "обычный"}


def _text(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


@dataclass(frozen=True)
class StaffMessage:
    """What the staff needs to call back; every field but the language may be missing."""

    language: str
    name: str | None = None
    callback_number: str | None = None
    reason: str | None = None
    urgency: str | None = None
    caller_id: str | None = None
    recipient: str | None = None  # the staff member or department it is for, if named
    company: str | None = None  # the persona's company name in `language`
    call_id: str | None = None  # the call or API conversation the message came from
    taken_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # the same on every channel and every retry, so a receiver can drop duplicates
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # False: the call ended before the caller confirmed it (see Message.confirmed)
    confirmed: bool = True

    @classmethod
    def from_message(
        cls,
        message: Message,
        *,
        language: str | None = None,
        company: str | None = None,
        call_id: str | None = None,
    ) -> StaffMessage:
        """From the message the mind took; `language` when the message has none."""
        return cls(
            language=_text(message.language) or language or "ru",
            name=_text(message.name),
            callback_number=_text(message.callback_number),
            reason=_text(message.reason),
            urgency=message.urgency,
            caller_id=_text(message.caller_id),
            recipient=_text(message.recipient),
            company=company,
            call_id=call_id,
            confirmed=message.confirmed,
        )

    def as_dict(self) -> dict[str, str | bool | None]:
        """JSON-ready fields (taken_at as ISO 8601 UTC)."""
        out: dict[str, str | bool | None] = {name: getattr(self, name) for name in FIELDS}
        out.update(
            id=self.id,
            language=self.language,
            company=self.company,
            call_id=self.call_id,
            taken_at=self.taken_at.astimezone(UTC).isoformat(timespec="seconds"),
            confirmed=self.confirmed,
        )
        return out

    def stored(self) -> dict[str, str | bool | None]:
        """The fields the calls database keeps (`CallStore.add_message`)."""
        return {name: getattr(self, name) for name in STORED}


def _labels(language: str) -> dict[str, str]:
    return _LABELS.get(language, _LABELS["en"])


def urgency_words(urgency: str | None, language: str) -> str | None:
    """Urgent/normal (and their synonyms) in words of `language`; other values as given."""
    if urgency is None:
        return None
    labels = _labels(language)
    key = urgency.lower()
    if key in _URGENT:
        return labels["urgent"]
    if key in _NORMAL:
        return labels["normal"]
    return urgency


def is_urgent(message: StaffMessage) -> bool:
    return message.urgency is not None and message.urgency.lower() in _URGENT


def render_subject(message: StaffMessage) -> str:
    labels = _labels(message.language)
    who = message.name or message.callback_number or message.caller_id or labels["missing"]
    urgent = f"[{labels['urgent'].upper()}] " if is_urgent(message) else ""
    unconfirmed = "" if message.confirmed else f" ({labels['unconfirmed']})"
    return f"{urgent}{labels['subject']}: {who}{unconfirmed}"


def render_body(message: StaffMessage) -> str:
    """Every field on its own line, missing ones said to be missing, in the message's language."""
    labels = _labels(message.language)
    company = labels["company"].format(name=message.company) if message.company else ""
    lines = [labels["intro"].format(company=company), ""]
    if not message.confirmed:
        lines[1:1] = [labels["unconfirmed_line"], ""]
    values = {name: getattr(message, name) for name in FIELDS}
    values["urgency"] = urgency_words(message.urgency, message.language)
    for name in FIELDS:
        lines.append(f"{labels[name]}: {values[name] or labels['missing']}")
    taken = message.taken_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines.append(f"{labels['taken_at']}: {taken}")
    if message.call_id:
        lines.append(f"{labels['call_id']}: {message.call_id}")
    return "\n".join(lines) + "\n"
