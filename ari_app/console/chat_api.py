"""The console's Chat (receptionist or admin): `POST /api/chat` talks to the secretary in
text through the same mind the calls use (the rules, with the `llm:` models when the app
has them), on the running app's personas. A message taken in the chat is stored with the
callers' messages and sent to the staff, as one left on a call is."""

# no `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies local to the router's builder
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from ari_app.api.conversations import ConversationStore
from ari_app.console.auth import Auth, Caller, require
from ari_app.errors import ConfigError
from ari_app.llm.chain import FallbackChain
from ari_app.mind.dialogue import Dialogue, frozen_clock
from ari_app.mind.llm_dialogue import make_mind
from ari_app.mind.mind import Reply
from ari_app.mind.persona import Personas
from ari_app.mind.text_turn import text_turn
from ari_app.notify.message import StaffMessage

KeepMessage = Callable[[StaffMessage], Awaitable[int]]  # stored and sent; its id


@dataclass(frozen=True)
class ChatSetup:
    personas: Personas  # the app's own: a persona saved in the console is used at once
    persona: str  # the default persona's name
    language: str
    llm: FallbackChain | None
    keep_message: KeepMessage
    frozen_time: datetime | None = None  # the config's: the chat's clock, as a call's


class ChatIn(BaseModel):
    text: str = Field(default="", max_length=2000)
    conversation_id: str | None = None
    language: str | None = None
    persona: str | None = None


def chat_router(auth: Auth, setup: ChatSetup,
                conversations: ConversationStore | None = None) -> APIRouter:
    router = APIRouter(tags=["chat"])
    Staff = Annotated[Caller, Depends(require(auth, "admin", "receptionist"))]
    store = conversations or ConversationStore(ttl_s=3600, max_conversations=200)

    @router.post("/chat")
    async def chat(body: ChatIn, user: Staff) -> dict[str, Any]:
        """One turn; an empty text with no conversation gets the greeting."""
        conv = store.get(body.conversation_id) if body.conversation_id else None
        if body.conversation_id and conv is None:
            raise HTTPException(404, f"unknown or expired conversation {body.conversation_id}")
        if conv is None:
            name = body.persona or setup.persona
            try:
                persona = setup.personas(name)
            except ConfigError as exc:
                raise HTTPException(404, str(exc)) from None
            lang = body.language or (setup.language if setup.language in persona.languages
                                     else persona.languages[0])
            if lang not in persona.languages:
                raise HTTPException(422, f"language: persona {name!r} speaks "
                                         f"{', '.join(persona.languages)}")
            dialogue = Dialogue(persona, lang, now=frozen_clock(setup.frozen_time))
            conv = store.create(name, lang, make_mind(dialogue, setup.llm))
        async with conv.lock:
            if conv.turns == 0 and not body.text.strip():
                reply = Reply(conv.mind.greeting(), "greeting")
            else:
                reply = (await text_turn(conv.mind, body.text)).reply
            conv.turns += 1
            conv.ended = reply.end_call
        message = None
        if reply.message is not None:
            company = setup.personas(conv.persona).company.get(conv.language)
            staff = StaffMessage.from_message(reply.message, language=conv.language,
                                              company=company, call_id=f"console:{user.name}")
            message = {**staff.as_dict(), "stored_id": await setup.keep_message(staff)}
        return {
            "conversation_id": conv.id, "persona": conv.persona, "language": conv.language,
            "reply": reply.text, "intent": reply.intent, "end_call": reply.end_call,
            "transfer": reply.transfer.target if reply.transfer is not None else None,
            "message": message,
        }

    return router
