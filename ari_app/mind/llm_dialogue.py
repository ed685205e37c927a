"""The language model speaks for the secretary, inside the rule dialogue's guard rails.

The rule dialogue (dialogue.py) keeps what must be exact: the greeting, goodbyes, noise,
and any open question it asked (the message form with its digit-by-digit read-back, an
offer, "who shall I say is calling?"). Every other turn goes to the fallback chain with the
persona's fact sheet as the only source of truth; its tool calls become the same actions
the rules produce (a message, a transfer request, the hours from the calendar, the end of
the call). When no provider answers, the rules answer the turn.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from ari_app.llm import base
from ari_app.llm.chain import FallbackChain
from ari_app.llm.prompt import build_system_prompt
from ari_app.llm.tools import SECRETARY_TOOLS, problems
from ari_app.mind import intents
from ari_app.mind.dialogue import Dialogue, DialogueState, Message, check_hours
from ari_app.mind.fact_sheet import fact_sheet
from ari_app.mind.mind import Answer, FailReason, Mind, Reply
from ari_app.mind.persona import Persona
from ari_app.mind.staff import TransferRequest
from ari_app.tts.chunker import FLUSH

log = logging.getLogger(__name__)

_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "понедельник": 0, "вторник": 1, "среда": 2, "четверг": 3, "пятница": 4,
    "суббота": 5, "воскресенье": 6,
}  # fmt: skip


def day_of(value: str, now: dt.datetime) -> dt.datetime | None:
    """check_hours' `day` argument as a moment: None for "now" (or nothing)."""
    word = value.strip().lower()
    if word in ("", "now", "today", "сейчас", "сегодня"):
        return None if word in ("", "now", "сейчас") else now.replace(hour=0, minute=0)
    if word in ("tomorrow", "завтра"):
        return (now + dt.timedelta(days=1)).replace(hour=0, minute=0)
    if word in _WEEKDAYS:
        ahead = (_WEEKDAYS[word] - now.weekday()) % 7
        return (now + dt.timedelta(days=ahead)).replace(hour=0, minute=0)
    try:
        day = dt.date.fromisoformat(word)
    except ValueError:
        return None
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=now.tzinfo)


def system_prompt(persona: Persona, language: str, now: dt.datetime) -> str:
    """The system message of a call with `persona` in `language` at `now`."""
    return build_system_prompt(
        fact_sheet(persona, language, now),
        persona.text("company", language),
        persona.text("secretary_name", language),
        language,
        f"{persona.tone.formality}, {persona.tone.length}",
    )


def warm_up_messages(persona: Persona, language: str, now: dt.datetime) -> list[base.Message]:
    """A request whose prompt starts as every call's first LLM turn does (system prompt,
    then the tools), for a model server to keep in its prompt cache."""
    return [
        base.Message("system", system_prompt(persona, language, now)),
        base.Message("user", "..."),
    ]


class LlmTurn(Answer):
    """One answer in the making: iterate `pieces` (text as it comes, filler included) and
    read `reply` afterwards (None if the caller cut it short)."""

    def __init__(self, mind: LlmDialogue, caller_text: str) -> None:
        self.mind = mind
        self.caller_text = caller_text
        self.done: base.Done | None = None
        self.pieces = self._run()
        super().__init__(self.pieces, "llm")

    async def _run(self) -> AsyncIterator[str]:
        mind = self.mind
        words: list[str] = []
        call: base.ToolCall | None = None
        started = time.monotonic()
        try:
            async for event in mind.chain.stream(
                mind.messages(self.caller_text), SECRETARY_TOOLS, language=mind.language
            ):
                if self.figures.first_event_ms is None:
                    self.figures.first_event_ms = (time.monotonic() - started) * 1000
                if isinstance(event, base.Filler):
                    self.figures.filler = True
                    yield event.text
                    yield FLUSH
                elif isinstance(event, base.TextDelta):
                    words.append(event.text)
                    yield event.text
                elif isinstance(event, base.ToolCall) and call is None:
                    call = event
                elif isinstance(event, base.Done):
                    self.done = event
                    if event.first_token_ms is not None:
                        self.figures.first_token_ms = event.first_token_ms
        except base.LlmUnavailable as exc:
            log.warning("no language model answered; the rules do: %s", exc)
            self.figures.unavailable = True
            reply = mind.reply(self.caller_text)
            self.reply = reply
            yield reply.text
            return
        said = "".join(words).strip()
        action = mind.act(call, said) if call is not None else None
        if action is not None and action.text:
            yield (" " if said else "") + action.text
        text = " ".join(part for part in (said, action.text if action else "") if part)
        self.reply = Reply(
            text or mind.rules.say("cant_answer"), "llm" if call is None else call.name,
            end_call=bool(action and action.end_call),
            transfer=action.transfer if action else None,
            message=action.message if action else None,
        )
        mind.remember(self.caller_text, self.reply.text)


class LlmDialogue:
    """The rules with a language model: a `Mind` (mind/mind.py) whose answers the model
    writes (`turn()`) on the turns the rules leave open."""

    def __init__(self, rules: Dialogue, chain: FallbackChain) -> None:
        self.rules = rules
        self.chain = chain
        self.language = rules.language
        self.system = system_prompt(rules.persona, self.language, rules.now())
        self.history: list[base.Message] = []

    # --- what the rules keep --------------------------------------------------------------
    def greeting(self) -> str:
        return self._kept(self.rules.greeting())

    def goodbye(self) -> str:
        return self.rules.goodbye()

    def reprompt(self) -> str:
        return self.rules.reprompt()

    def hold_on(self) -> str:
        return self.rules.hold_on()

    def handing_back(self, to_staff: bool) -> str:
        return self.rules.handing_back(to_staff)

    def on_dtmf(self, digit: str) -> Reply | None:
        return self.rules.on_dtmf(digit)

    def transfer_failed(self, request: TransferRequest, reason: FailReason) -> Reply:
        return self._kept_reply(self.rules.transfer_failed(request, reason))

    def reply(self, caller_text: str) -> Reply:
        """A rule-dialogue turn, kept in the model's history too."""
        reply = self.rules.reply(caller_text)
        self.remember(caller_text, reply.text)
        return reply

    def wants(self, caller_text: str) -> bool:
        """Whether the model answers this turn (else `reply`)."""
        if self.rules.mid_task or intents.is_noise(caller_text):
            return False
        return not intents.is_goodbye(caller_text, self.language)

    def turn(self, caller_text: str) -> LlmTurn:
        return LlmTurn(self, caller_text)

    def answer(self, caller_text: str) -> Answer:
        """The Mind's turn: the model's words as they come, or the rules' reply."""
        if self.wants(caller_text):
            return self.turn(caller_text)
        return Answer.of(self.reply(caller_text))

    def heard(self, answer: Answer, said: str, *, interrupted: bool, failed: bool) -> Reply:
        """The model's history keeps what the caller heard of its answer; an answer cut
        short by the caller has no actions, only the words heard. A rules' reply stands
        (Dialogue.heard); the history forgets what its failed speech did not say."""
        if not isinstance(answer, LlmTurn):
            if failed and not interrupted:
                self.forget_unsaid(said)
            return self.rules.heard(answer, said, interrupted=interrupted, failed=failed)
        if answer.reply is None:  # cut before the model finished: keep what was heard
            self.remember(answer.caller_text, said)
        elif interrupted or failed:
            self.forget_unsaid(said)
        if answer.reply is None or interrupted:
            return Reply(said, "llm_interrupted")
        return answer.reply

    # --- history and actions --------------------------------------------------------------
    def messages(self, caller_text: str) -> list[base.Message]:
        return [
            base.Message("system", self.system), *self.history,
            base.Message("user", caller_text),
        ]

    def remember(self, caller_text: str, said: str) -> None:
        self.history += [base.Message("user", caller_text), base.Message("assistant", said)]
        del self.history[:-20]  # the last ten exchanges are plenty for a phone call

    def awaits_number(self) -> bool:
        """The rules' message form asks for the number (a model taking a message through
        its tool asks in its own words, which are not parsed)."""
        return self.rules.awaits_number()

    def unfinished(self) -> Message | None:
        """The rules' message form, if one was under way (a model's tool call takes a
        message whole or not at all)."""
        return self.rules.unfinished()

    def checkpoint(self) -> tuple[list[base.Message], DialogueState]:
        """See Dialogue.checkpoint: the model's history and the rules' state."""
        return list(self.history), self.rules.checkpoint()

    def restore(self, state: tuple[list[base.Message], DialogueState]) -> None:
        self.history = list(state[0])
        self.rules.restore(state[1])

    def forget_unsaid(self, said: str) -> None:
        """The caller cut the reply short: the history keeps only what was heard."""
        if self.history and self.history[-1].role == "assistant":
            self.history[-1] = base.Message("assistant", said)

    def _kept(self, text: str) -> str:
        self.history.append(base.Message("assistant", text))
        return text

    def _kept_reply(self, reply: Reply) -> Reply:
        self._kept(reply.text)
        return reply

    def act(self, call: base.ToolCall, said: str) -> Reply | None:
        """Run one tool call; the Reply's text is what to say after the model's words."""
        wrong = problems(call)
        if wrong:
            log.info("ignoring a malformed tool call: %s", "; ".join(wrong))
            return None
        rules, args = self.rules, call.args
        if call.name == "check_hours":
            when = day_of(str(args.get("day", "")), rules.now())
            return Reply(check_hours(rules.persona, self.language, when, now=rules.now()),
                         "check_hours")
        if call.name == "end_call":
            return Reply("" if said else rules.goodbye(), "end_call", end_call=True)
        if call.name == "transfer_call":
            return rules.transfer_to(str(args.get("target", "")))
        return self._take_message(args)

    def _take_message(self, args: dict[str, Any]) -> Reply:
        rules = self.rules
        try:
            message = Message.from_tool_args({
                "name": args.get("caller_name"), "callback_number": args.get("callback_number"),
                "reason": args.get("message"), "urgency": bool(args.get("urgent", False)),
                "caller_id": rules.caller_id, "language": self.language,
            })
        except ValueError as exc:
            log.info("take_message needs the form: %s", exc)
            return rules.start_message(reason=args.get("message"))
        if message.callback_number is None and rules.caller_id is None:
            return rules.start_message(reason=message.reason)
        key = "message_taken_urgent" if message.urgency == "urgent" else "message_taken"
        return Reply(rules.say(key), "message_taken", message=message)


def make_mind(rules: Dialogue, chain: FallbackChain | None) -> Mind[Any]:
    """The call's mind: the rules, with the language models when there are any."""
    return rules if chain is None else LlmDialogue(rules, chain)

