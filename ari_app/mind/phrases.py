"""The secretary's stock phrases in Russian and English, formal and friendly.

A persona may override any of them under `phrases:` (key -> language -> text); an override
may use only the placeholders the stock phrase has ({name}, {number}, ...), which is checked
when the persona loads.
"""

from __future__ import annotations

import re

from ari_app.mind.words import tidy

PHRASES: dict[str, dict[str, str]] = {
    "hello": {"ru": "Здравствуйте! Чем могу помочь?", "en": "Hello! How can I help you?"},
    "anything_else": {"ru": "Чем ещё могу помочь?", "en": "Is there anything else I can do?"},
    "ok": {"ru": "Хорошо.", "en": "All right."},
    "hold_on": {"ru": "Секунду.", "en": "One moment."},
    "cant_answer": {
        "ru": "К сожалению, на этот вопрос я ответить не могу.",
        "en": "I'm afraid I can't answer that.",
    },
    "offer_message": {
        "ru": "Хотите, я запишу сообщение, и вам перезвонят?",
        "en": "Would you like me to take a message so that someone calls you back?",
    },
    "offer_message_for": {
        "ru": "Хотите, я запишу сообщение, и {target} вам перезвонит?",
        "en": "Would you like me to take a message for {target}?",
    },
    "offer_choice": {
        "ru": "Могу соединить вас со специалистом или записать сообщение. Как вам удобнее?",
        "en": "I can put you through to {target} or take a message. Which would you prefer?",
    },
    "offer_again": {
        "ru": "Скажите «да», если записать сообщение, или «нет», если не нужно.",
        "en": "Please say yes if I should take a message, or no if not.",
    },
    "choice_again": {
        "ru": "Скажите, пожалуйста: соединить или записать сообщение?",
        "en": "Shall I put you through, or take a message?",
    },
    "message_start": {
        "ru": "Хорошо, я запишу сообщение.", "en": "Certainly, I'll take a message.",
    },
    "ask_name": {"ru": "Как вас зовут?", "en": "May I have your name, please?"},
    "ask_caller_id": {
        "ru": "Перезвонить на номер, с которого вы звоните?",
        "en": "Shall we call you back on the number you are calling from?",
    },
    "ask_number": {
        "ru": "По какому номеру вам перезвонить?",
        "en": "What number should we call you back on?",
    },
    "number_none": {
        "ru": "Не расслышала номер. Продиктуйте его, пожалуйста, или наберите на телефоне "
              "и нажмите решётку.",
        "en": "I didn't get the number. Please say it again, or key it in and press hash.",
    },
    "number_too_short": {
        "ru": "Кажется, в номере не хватает цифр. Продиктуйте, пожалуйста, номер полностью.",
        "en": "That seems too short for a phone number. Please say the whole number.",
    },
    "number_too_long": {
        "ru": "В номере как будто лишние цифры. Продиктуйте его, пожалуйста, ещё раз.",
        "en": "That seems too long for a phone number. Please say it once more.",
    },
    "number_go_on": {"ru": "Да, продолжайте.", "en": "Yes, go on."},
    "number_readback": {
        "ru": "Записала номер: {number}. Верно?", "en": "I have {number}. Is that right?",
    },
    "number_again": {
        "ru": "Хорошо, продиктуйте номер ещё раз, пожалуйста.",
        "en": "All right, please say the number again.",
    },
    "ask_reason": {
        "ru": "Что передать? Коротко скажите, по какому вы вопросу.",
        "en": "What is the message? Briefly, what is it about?",
    },
    "ask_urgency": {"ru": "Это срочно?", "en": "Is it urgent?"},
    "confirm": {"ru": "Проверим: {summary}. Всё верно?", "en": "Let me check: {summary}. "
                "Is that right?"},
    "which_fix": {
        "ru": "Что исправить: имя, номер или сообщение?",
        "en": "What should I correct: the name, the number or the message?",
    },
    "message_taken": {
        "ru": "Спасибо, я всё записала и передам. Вам перезвонят.",
        "en": "Thank you, I've got it all and will pass it on. You'll get a call back.",
    },
    "message_taken_urgent": {
        "ru": "Спасибо, я всё записала и передам как срочное. Вам перезвонят.",
        "en": "Thank you, I've got it and will pass it on as urgent. You'll get a call back.",
    },
    "message_cancelled": {
        "ru": "Хорошо, не буду записывать.", "en": "All right, I won't take a message.",
    },
    "transfer_ask_name": {"ru": "Как вас представить?", "en": "Who shall I say is calling?"},
    "transferring": {
        "ru": "Одну минуту, соединяю. Оставайтесь, пожалуйста, на линии.",
        "en": "One moment, I'm putting you through to {target}. Please stay on the line.",
    },
    "handing_back": {
        "ru": "Соединяю вас с сотрудником. Оставайтесь, пожалуйста, на линии.",
        "en": "Let me put you through to a colleague. Please stay on the line.",
    },
    "call_again": {
        "ru": "Извините, я не могу сейчас продолжить разговор. Перезвоните, пожалуйста, "
              "через минуту.",
        "en": "I'm sorry, I can't go on with this call just now. Please call again in a minute.",
    },
    "unavailable": {
        "ru": "{target} сейчас не на месте.", "en": "{target} is not available right now.",
    },
    "works": {"ru": "{target} работает {week}.", "en": "{target} works {week}."},
    "transfer_not_allowed": {
        "ru": "Напрямую соединить не могу, но могу записать сообщение, и {target} вам "
              "перезвонит. Записать?",
        "en": "I can't put you through to {target} directly, but I can take a message. "
              "Shall I?",
    },
    "transfer_unknown": {
        "ru": "К сожалению, я не нашла такого сотрудника или отдела.",
        "en": "I'm sorry, I couldn't find that person or department.",
    },
    "busy": {"ru": "К сожалению, линия занята.", "en": "I'm sorry, the line is busy."},
    "no_answer": {"ru": "К сожалению, никто не ответил.", "en": "I'm sorry, nobody answered."},
    "declined": {
        "ru": "К сожалению, сейчас ответить не могут.",
        "en": "I'm sorry, they can't take your call right now.",
    },
    "failed": {
        "ru": "К сожалению, соединить не получилось.", "en": "I'm sorry, I couldn't connect you.",
    },
    "address": {"ru": "Наш адрес: {address}.", "en": "Our address is {address}."},
    "announce": {
        "ru": "Вам звонит {caller}. Абонент сказал: «{said}».",
        "en": "You have a call from {caller}. They said: \"{said}\".",
    },
    "announce_caller": {"ru": "клиент", "en": "a caller"},
    "announce_number": {"ru": "{name}, номер {number}", "en": "{name}, number {number}"},
}

# Friendly tone: the few phrases where it shows; the rest are the same in both tones.
FRIENDLY: dict[str, dict[str, str]] = {
    "hello": {"ru": "Здравствуйте! Слушаю вас.", "en": "Hi there! What can I do for you?"},
    "anything_else": {"ru": "Что-нибудь ещё?", "en": "Anything else?"},
    "ok": {"ru": "Отлично.", "en": "Great."},
    "message_start": {"ru": "Давайте я запишу сообщение.", "en": "Sure, let me take a message."},
}

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Phrases used inside other phrases: not sentences, so not capitalised.
_FRAGMENTS = frozenset({"announce_caller", "announce_number"})


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def override_problems(overrides: dict[str, dict[str, str]]) -> list[str]:
    """Problems with a persona's `phrases:` section, as "phrases.key.lang: ..."."""
    problems = []
    for key, texts in overrides.items():
        stock = PHRASES.get(key)
        if stock is None:
            problems.append(f"phrases.{key}: unknown phrase (known: {', '.join(PHRASES)})")
            continue
        allowed = set().union(*(placeholders(t) for t in stock.values()))
        for lang, text in texts.items():
            extra = placeholders(text) - allowed
            if extra:
                names = ", ".join("{" + e + "}" for e in sorted(extra))
                problems.append(f"phrases.{key}.{lang}: unknown placeholder {names}")
    return problems


class PhraseBook:
    """The phrases of one call: persona overrides, then the tone's, then the stock ones."""

    def __init__(self, overrides: dict[str, dict[str, str]], lang: str, friendly: bool
                 ) -> None:
        self.overrides = overrides
        self.lang = lang
        self.friendly = friendly

    def __call__(self, key: str, **values: str) -> str:
        for source in (self.overrides, FRIENDLY if self.friendly else {}, PHRASES):
            text = source.get(key, {}).get(self.lang)
            if text is not None:
                break
        else:
            raise KeyError(f"no phrase {key!r} in language {self.lang!r}")
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        if key not in _FRAGMENTS:
            text = text[:1].upper() + text[1:]  # "{target} ..." with "the sales department"
        return tidy(text)
