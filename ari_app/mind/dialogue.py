"""Rule-based, offline dialogue over a persona: greetings, hours from the calendar, facts,
prices and FAQ, transfers by name/role/department, and a take-a-message form.

Answers come only from the persona; what it does not cover becomes an offer to take a
message (or to put the caller through to whoever takes general questions). The caller's
text comes from Whisper, so matching is on normalised word starts and tolerant to typical
mishearings ("чувства работы", "opening ours").
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ari_app.mind import intents
from ari_app.mind.calendar import (
    day_sentence,
    holidays_sentence,
    now_sentence,
    today_sentence,
)
from ari_app.mind.fact_sheet import check_hours
from ari_app.mind.facts import (
    content_words,
    match_faq,
    match_service,
    prices_sentence,
    services_sentence,
    words_match,
)
from ari_app.mind.intents import normalise
from ari_app.mind.message import Message, MessageForm, extract_name
from ari_app.mind.mind import Answer, FailReason, Reply
from ari_app.mind.persona import Persona
from ari_app.mind.phrases import PhraseBook
from ari_app.mind.staff import (
    Target,
    TransferRequest,
    find_target,
    general_target,
    transfer_request,
)
from ari_app.mind.texts import pick

__all__ = [
    "Answer", "Dialogue", "FailReason", "Message", "Reply", "TransferRequest", "check_hours",
    "normalise",
]  # fmt: skip

# Words in holiday names that do not tell one holiday from another.
_GENERIC_HOLIDAY = ("праздн", "выходн", "день", "holiday", "day", "the")


@dataclass(frozen=True)
class _Offer:
    """A question the secretary asked: take a message (for `recipient`), or choose between
    that and being put through to `target`."""

    kind: Literal["message", "choice"]
    recipient: str | None = None
    target: Target | None = None


@dataclass(frozen=True)
class DialogueState:
    history: list[tuple[str, str]]
    form: MessageForm | None
    offer: _Offer | None
    awaiting_name: tuple[Target, str] | None
    caller_name: str | None


def frozen_clock(at: dt.datetime | None) -> Callable[[], dt.datetime] | None:
    """A clock stopped at `at`, the config's frozen_time (tests, demos), for `Dialogue(now=)`;
    None when `at` is: the persona's own clock then."""
    return (lambda: at) if at is not None else None


class Dialogue:
    """One call's conversation in one language: the rules (a `Mind`, mind/mind.py)."""

    def __init__(self, persona: Persona, language: str, *, caller_id: str | None = None,
                 now: Callable[[], dt.datetime] | None = None) -> None:
        if language not in persona.languages:
            have = ", ".join(persona.languages)
            raise ValueError(f"persona has no texts in language {language!r} (has: {have})")
        self.persona = persona
        self.language = language
        self.caller_id = caller_id or None
        self._clock = now or persona.now
        self.say = PhraseBook(persona.phrases, language, persona.tone.formality == "friendly")
        self.full = persona.tone.length == "full"
        self.history: list[tuple[str, str]] = []
        self._form: MessageForm | None = None
        self._offer: _Offer | None = None
        self._awaiting_name: tuple[Target, str] | None = None  # attended transfer: who calls?
        self._caller_name: str | None = None

    def awaits_number(self) -> bool:
        """The message form's question now is the caller's number."""
        return self._form is not None and self._form.step == "number"

    # --- a reply withdrawn before the caller heard it ----------------------------------------
    def checkpoint(self) -> DialogueState:
        """The conversation's state now, to `restore` if the reply about to be made is
        withdrawn unheard (the caller went on speaking)."""
        return DialogueState(
            list(self.history), copy.copy(self._form), self._offer, self._awaiting_name,
            self._caller_name,
        )

    def restore(self, state: DialogueState) -> None:
        self.history = list(state.history)
        self._form = copy.copy(state.form)
        self._offer = state.offer
        self._awaiting_name = state.awaiting_name
        self._caller_name = state.caller_name

    # --- the secretary's own lines --------------------------------------------------------
    def now(self) -> dt.datetime:
        return self.persona.calendar.local(self._clock())

    def _text(self, field: str) -> str:
        return self.persona.text(field, self.language)

    def _said(self, text: str) -> str:
        self.history.append(("secretary", text))
        return text

    def greeting(self) -> str:
        """The working-hours greeting, or the off-hours one when the calendar says closed."""
        off = self.persona.greeting_off_hours and not self.persona.calendar.is_open(self.now())
        return self._said(self._text("greeting_off_hours" if off else "greeting"))

    def goodbye(self) -> str:
        """The persona's farewell, for when the secretary ends the call herself."""
        return self._said(self._text("goodbye"))

    def handing_back(self, to_staff: bool) -> str:
        """Said when the app stops mid-call: the caller goes to the line's staff, or (a
        line without them) is asked to call again."""
        return self._said(self.say("handing_back" if to_staff else "call_again"))

    def hold_on(self) -> str:
        """A short "one moment" while the caller's words are slow to come."""
        return self.say("hold_on")

    def reprompt(self) -> str:
        """Said when the caller has been silent for a while (with the open question)."""
        text = self._text("reprompt")
        if self._form is not None:
            text = f"{text} {self._form.prompt()}"
        return self._said(text)

    # --- the caller's turns ---------------------------------------------------------------
    def reply(self, caller_text: str) -> Reply:
        self.history.append(("caller", caller_text))
        reply = self._reply(caller_text)
        self._said(reply.text)
        return reply

    def answer(self, caller_text: str) -> Answer:
        """The Mind's turn: the rules' reply, known in full."""
        return Answer.of(self.reply(caller_text))

    def heard(self, answer: Answer, said: str, *, interrupted: bool, failed: bool) -> Reply:
        """The rules' reply stands whatever the caller heard of it: a message taken or a
        transfer asked for is carried out even when its words were cut short."""
        assert answer.reply is not None, "the rules answer in full"
        return answer.reply

    def on_dtmf(self, digit: str) -> Reply | None:
        """A key pressed: digits of a callback number while the form asks for one."""
        self.history.append(("caller", f"DTMF {digit}"))
        if self._form is None:
            return None
        result = self._form.dtmf(digit)
        if result is None:
            return None
        self._said(result.text)
        return Reply(result.text, "message")

    def transfer_failed(self, request: TransferRequest, reason: FailReason) -> Reply:
        """The caller is back with the secretary after a transfer that did not happen."""
        target = self._target_of(request)
        name = target.name(self.language) if target is not None else None
        offer = self.say("offer_message_for", target=name) if name else self.say("offer_message")
        self._offer = _Offer("message", recipient=name)
        return Reply(self._said(f"{self.say(reason)} {offer}"), "transfer_failed")

    def _target_of(self, request: TransferRequest) -> Target | None:
        for member in self.persona.staff:
            if request.target in (member.extension, member.number):
                return Target(member.id, member, None, member.department)
        key = request.department
        for dept_key, dept in self.persona.departments.items():
            if dept_key == key or dept.target == request.target:
                return Target(dept_key, None, dept, dept_key)
        return None

    def _reply(self, text: str) -> Reply:
        if intents.is_noise(text):
            heard = self._text("not_understood")
            if self._form is not None:
                heard = f"{heard} {self._form.prompt()}"
            return Reply(heard, "not_understood")
        if self._form is not None:
            return self._form_turn(text)
        if intents.is_goodbye(text, self.language):
            return Reply(self._text("goodbye"), "goodbye", end_call=True)
        if self._awaiting_name is not None:
            target, said = self._awaiting_name
            self._awaiting_name = None
            if intents.is_cancel(text, strict=True):
                return Reply(self._anything_else(self.say("ok")), "transfer_cancelled")
            self._caller_name = extract_name(text) or self._caller_name
            return self._put_through(target, said)
        offer, self._offer = self._offer, None
        if offer is not None:
            reply = self._on_offer(offer, text)
            if reply is not None:
                return reply
        return self._answer(text)

    # --- for the language-model path (llm_dialogue.py) ------------------------------------
    @property
    def mid_task(self) -> bool:
        """An open question of ours (message form, offer, caller's name) awaits an answer."""
        return any(x is not None for x in (self._form, self._offer, self._awaiting_name))

    def unfinished(self) -> Message | None:
        """See Mind.unfinished: what the message form gathered, once."""
        form, self._form = self._form, None
        return form.partial() if form is not None else None

    def transfer_to(self, query: str) -> Reply:
        """Put the caller through to whoever `query` names, by the persona's rules."""
        return self._transfer(find_target(self.persona, query, self.language), query)

    def offer_message(self, lead: str) -> Reply:
        return self._offer_message(lead)

    def start_message(self, reason: str | None = None) -> Reply:
        return self._start_form(reason=reason)

    # --- the message form -----------------------------------------------------------------
    def _start_form(self, recipient: str | None = None, reason: str | None = None) -> Reply:
        self._form = MessageForm(self.say, self.language, caller_id=self.caller_id,
                                 recipient=recipient, reason=reason, name=self._caller_name)
        return Reply(self._form.start(), "message")

    def _form_turn(self, text: str) -> Reply:
        form = self._form
        assert form is not None
        if intents.is_goodbye(text, self.language, thanks=False):
            if form.step == "confirm" and intents.yes_no(text) is True:
                form.answer(text)
            message = form.message() if form.step == "done" else form.partial()
            self._form = None
            return Reply(self._text("goodbye"), "goodbye", end_call=True, message=message)
        result = form.answer(text)
        if result.cancelled:
            self._form = None
            return Reply(self._anything_else(result.text), "message_cancelled")
        if result.message is not None:
            self._form = None
            self._caller_name = result.message.name
            return Reply(self._anything_else(result.text), "message_taken",
                         message=result.message)
        return Reply(result.text, "message")

    def _anything_else(self, text: str) -> str:
        return f"{text} {self.say('anything_else')}" if self.full else text

    # --- offers ---------------------------------------------------------------------------
    def _offer_message(self, lead: str, recipient: str | None = None) -> Reply:
        self._offer = _Offer("message", recipient=recipient)
        ask = self.say("offer_message_for", target=recipient) if recipient else self.say(
            "offer_message")
        return Reply(f"{lead} {ask}", "offer_message")

    def _cant_answer(self) -> Reply:
        """An answer the persona does not have: offer a transfer to whoever takes general
        questions (when they are in), else a message."""
        lead = self.say("cant_answer")
        target = general_target(self.persona)
        if target is not None and target.allowed(self.persona) and target.available(
            self.persona, self.now()
        ):
            self._offer = _Offer("choice", target=target)
            return Reply(f"{lead} {self.say('offer_choice', target=target.name(self.language))}",
                         "unknown")
        reply = self._offer_message(lead)
        return Reply(reply.text, "unknown")

    def _on_offer(self, offer: _Offer, text: str) -> Reply | None:
        """The caller's answer to an offer; None when they moved on to something else."""
        answer = intents.yes_no(text)
        if offer.kind == "choice":
            assert offer.target is not None
            if intents.wants_message(text, self.language):
                return self._start_form(offer.target.name(self.language))
            if intents.wants_transfer(text, self.language):
                return self._transfer(offer.target, text)
            if answer is True:
                self._offer = offer
                return Reply(self.say("choice_again"), "offer_choice")
        elif answer is True or intents.wants_message(text, self.language):
            return self._start_form(offer.recipient)
        short = len(normalise(text).split()) <= 3  # "нет, спасибо"; longer: a new request
        if (answer is False and short) or intents.is_cancel(text):
            return Reply(self._anything_else(self.say("ok")), "offer_declined")
        return None

    # --- transfers ------------------------------------------------------------------------
    def _transfer(self, target: Target | None, said: str) -> Reply:
        persona = self.persona
        if target is None:
            return self._offer_message(self.say("transfer_unknown"))
        name = target.name(self.language)
        if not target.allowed(persona):
            self._offer = _Offer("message", recipient=name)
            return Reply(self.say("transfer_not_allowed", target=name), "transfer_refused")
        if not target.available(persona, self.now()):
            week = target.week(persona).sentence(self.language)
            lead = " ".join((self.say("unavailable", target=name),
                             self.say("works", target=name, week=week)))
            if persona.transfer.off_hours == "take_message":
                reply = self._offer_message(lead, name)
                return Reply(reply.text, "transfer_unavailable")
            return Reply(self._anything_else(lead), "transfer_unavailable")
        attended = target.mode(persona) == "attended"
        if attended and persona.transfer.ask_name and self._caller_name is None:
            self._awaiting_name = (target, said)
            return Reply(self.say("transfer_ask_name"), "transfer_ask_name")
        return self._put_through(target, said)

    def _put_through(self, target: Target, said: str) -> Reply:
        request = transfer_request(self.persona, target, caller_name=self._caller_name,
                                   caller_number=self.caller_id, said=said)
        text = self.say("transferring", target=target.name(self.language))
        return Reply(text, "transfer", transfer=request)

    # --- answers --------------------------------------------------------------------------
    def _answer(self, text: str) -> Reply:
        lang = self.language
        if intents.wants_transfer(text, lang):
            target = find_target(self.persona, text, lang)
            if target is not None or not intents.wants_message(text, lang):
                return self._transfer(target, text)
        if intents.wants_message(text, lang):
            target = find_target(self.persona, text, lang)
            return self._start_form(target.name(lang) if target is not None else None)
        if intents.asks_price(text, lang):
            return self._price(text)
        entry = match_faq(self.persona.faq, text, lang)
        if entry is not None:
            return Reply(pick(entry.answer, lang), "faq")
        if intents.asks_address(text, lang):
            if not self.persona.address:
                return self._cant_answer()
            return Reply(self.say("address", address=pick(self.persona.address, lang)),
                         "address")
        if intents.asks_hours(text, lang):
            return Reply(self._hours(text), "hours")
        if intents.asks_services(text, lang):
            return self._services()
        service = match_service(self.persona.services, text, lang)
        if service is not None:
            parts = [service.description.get(lang, ""), service.price_sentence(lang)]
            answer = " ".join(p for p in parts if p)
            return Reply(answer, "services") if answer else self._cant_answer()
        target = find_target(self.persona, text, lang)
        if target is not None and target.staff is not None and self._names(target, text):
            return self._transfer(target, text)
        if intents.only_greeting(text):
            return Reply(self.say("hello"), "greeting")
        return self._cant_answer()

    @staticmethod
    def _names(target: Target, text: str) -> bool:
        """The caller said the staff member's name (not just a word of their role)."""
        assert target.staff is not None
        names = {w for n in target.staff.name.values() for w in content_words(n)}
        return any(words_match(q, n) or q[:4] == n[:4] for q in content_words(text)
                   for n in names if len(q) >= 4)

    def _services(self) -> Reply:
        lang = self.language
        parts = [self.persona.about.get(lang, ""), services_sentence(self.persona.services, lang)]
        answer = " ".join(p for p in parts if p)
        return Reply(answer, "services") if answer else self._cant_answer()

    def _price(self, text: str) -> Reply:
        lang = self.language
        service = match_service(self.persona.services, text, lang)
        if service is not None:
            sentence = service.price_sentence(lang)
            return Reply(sentence, "price") if sentence else self._cant_answer()
        listed = prices_sentence(self.persona.services, lang)
        return Reply(listed, "price") if listed else self._cant_answer()

    def _hours(self, text: str) -> str:
        lang = self.language
        cal = self.persona.calendar
        now = self.now()
        today = now.date()
        question = intents.hours_question(text, today)
        if question.when == "now":
            return now_sentence(cal, now, lang)
        if question.when == "today":
            return today_sentence(cal, now, lang)
        if question.when == "holidays":
            holiday = self._named_holiday(text, today)
            if holiday is not None:
                return day_sentence(cal.day(holiday), today, lang)
            return holidays_sentence(cal, now, lang)
        if question.day is not None:
            info = cal.day(question.day)
            sentence = day_sentence(info, today, lang)
            if info.hours is None and self.full and info.holiday is None:
                sentence = f"{sentence} {self.persona.hours_reply_text(lang)}"
            return sentence
        return self.persona.hours_reply_text(lang)

    def _named_holiday(self, text: str, today: dt.date) -> dt.date | None:
        """The next day of a holiday the caller named ("на Новый год")."""
        query = content_words(text)
        for holiday in self.persona.calendar.upcoming_holidays(self.now()):
            names = [w for n in holiday.name.values() for w in content_words(n)
                     if len(w) >= 4 and not w.startswith(_GENERIC_HOLIDAY)]
            if names and any(words_match(q, n) for q in query for n in names):
                return max(holiday.date, today)
        return None
