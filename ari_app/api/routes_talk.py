"""POST /chat, POST /process_call and POST /reset_conversation: conversations by turns.

Each conversation has its own `Mind`, made as a call's is (mind/llm_dialogue.py `make_mind`):
the rules, with the `llm:` section's language models when the API has them; a turn runs
through it in text (mind/text_turn.py). A message taken is stored and sent to the staff
(api/messages.py)."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from ari_app.api.audio import encode_wav
from ari_app.api.conversations import Conversation
from ari_app.api.routes_speech import ERRORS, read_audio
from ari_app.api.schemas import (
    ChatIn,
    ChatOut,
    ErrorOut,
    MessageOut,
    ProcessCallOut,
    ResetIn,
    ResetOut,
    Timings,
    TurnOut,
)
from ari_app.api.speech import UnknownChoice
from ari_app.api.state import ApiState, get_state
from ari_app.api.upload import UPLOAD_BODY
from ari_app.mind.dialogue import Dialogue, frozen_clock
from ari_app.mind.llm_dialogue import make_mind
from ari_app.mind.mind import Reply
from ari_app.mind.text_turn import text_turn
from ari_app.notify.message import StaffMessage

router = APIRouter()
State = Annotated[ApiState, Depends(get_state)]
TALK_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
}
LanguageQuery = Annotated[
    str | None, Query(pattern=r"^[a-z]{2,3}$", description="default: the config's")
]
PersonaQuery = Annotated[
    str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="default: the config's")
]
ConversationQuery = Annotated[
    str | None, Query(max_length=64, description="from an earlier reply; omit to start anew")
]


def _choose(state: ApiState, language: str | None, persona: str | None) -> tuple[str, str]:
    """The persona and language a new conversation gets; 400 if either is unknown."""
    name = persona or state.config.persona
    found = state.personas.get(name)
    if found is None:
        have = ", ".join(sorted(state.personas)) or "none"
        raise UnknownChoice(f"unknown persona {name!r} (loaded: {have})")
    lang = language or state.config.default_language
    if lang not in found.languages:
        have = ", ".join(sorted(found.languages))
        raise UnknownChoice(f"persona {name!r} has no language {lang!r} (has: {have})")
    return name, lang


def _resume(
    state: ApiState, conversation_id: str, language: str | None, persona: str | None
) -> Conversation:
    conv = state.conversations.get(conversation_id)
    if conv is None:
        raise HTTPException(
            404, f"unknown or expired conversation_id {conversation_id!r}; "
            "omit it to start a new conversation",
        )  # fmt: skip
    if conv.ended:
        raise HTTPException(409, f"conversation {conv.id} has ended; start a new one")
    if language is not None and language != conv.language:
        raise HTTPException(
            409, f"conversation {conv.id} is in {conv.language!r}, not {language!r}"
        )
    if persona is not None and persona != conv.persona:
        raise HTTPException(409, f"conversation {conv.id} has persona {conv.persona!r}")
    return conv


def _conversation(
    state: ApiState, conversation_id: str | None, language: str | None, persona: str | None
) -> Conversation:
    if conversation_id:
        return _resume(state, conversation_id, language, persona)
    name, lang = _choose(state, language, persona)
    dialogue = Dialogue(state.personas[name], lang, now=frozen_clock(state.config.frozen_time))
    return state.conversations.create(name, lang, make_mind(dialogue, state.llm))


async def _turn(state: ApiState, conv: Conversation, text: str, *, greet: bool) -> TurnOut:
    """One turn of the conversation's mind; a taken message is stored and handed to the
    notifications (background)."""
    if greet and conv.turns == 0 and not text.strip():
        reply = Reply(conv.mind.greeting(), "greeting")
    else:
        reply = (await text_turn(conv.mind, text)).reply
    conv.turns += 1
    conv.ended = reply.end_call
    out = None
    if reply.message is not None:
        persona = state.personas[conv.persona]
        staff = StaffMessage.from_message(
            reply.message, language=conv.language, company=persona.company.get(conv.language),
            call_id=f"api:{conv.id}",
        )  # fmt: skip
        await state.messages.keep(staff)
        fields = staff.as_dict()
        out = MessageOut.model_validate({k: fields[k] for k in MessageOut.model_fields})
    transfer = reply.transfer.target if reply.transfer is not None else None
    return TurnOut(
        reply=reply.text, intent=reply.intent, conversation_id=conv.id, language=conv.language,
        persona=conv.persona, end_call=reply.end_call, transfer=transfer, message=out,
    )  # fmt: skip


@router.post(
    "/chat",
    summary="One turn of a text conversation (empty text with no conversation: the greeting)",
    response_model=ChatOut,
    responses=TALK_ERRORS,
)
async def chat(body: ChatIn, state: State) -> ChatOut:
    conv = _conversation(state, body.conversation_id, body.language, body.persona)
    async with conv.lock:
        turn = await _turn(state, conv, body.text, greet=True)
    return ChatOut(**turn.model_dump())


@router.post(
    "/process_call",
    summary="One spoken turn: the caller's WAV in; transcript, reply and the reply's WAV out",
    response_model=ProcessCallOut,
    responses=TALK_ERRORS,
    openapi_extra=UPLOAD_BODY,
)
async def process_call(
    request: Request,
    state: State,
    conversation_id: ConversationQuery = None,
    language: LanguageQuery = None,
    persona: PersonaQuery = None,
) -> ProcessCallOut:
    """The reply's audio comes inside the JSON (base64 WAV), with the conversation's state."""
    speech = state.speech
    if conversation_id:
        lang = _resume(state, conversation_id, language, persona).language
    else:
        lang = _choose(state, language, persona)[1]
    speech.require_stt()
    speech.voice_for(lang, None)  # 400/503 now, not after the transcription
    audio = await read_audio(request, state)
    conv = _conversation(state, conversation_id, language, persona)
    async with conv.lock:
        t0 = time.perf_counter()
        transcript = await speech.transcribe(audio, conv.language)
        t1 = time.perf_counter()
        turn = await _turn(state, conv, transcript.text, greet=False)
        t2 = time.perf_counter()
        pcm, rate, voice = await speech.synthesize(turn.reply, conv.language)
        t3 = time.perf_counter()
    wav = await asyncio.to_thread(encode_wav, pcm, rate)
    return ProcessCallOut(
        **turn.model_dump(),
        transcript=transcript.text,
        audio_base64=base64.b64encode(wav).decode("ascii"),
        sample_rate=rate,
        voice=voice,
        input_duration_s=round(audio.duration_s, 3),
        reply_duration_s=round(len(pcm) / 2 / rate, 3),
        timings=Timings(
            stt_s=round(t1 - t0, 3), dialogue_s=round(t2 - t1, 4), tts_s=round(t3 - t2, 3)
        ),
    )


@router.post(
    "/reset_conversation",
    summary="Forget a conversation",
    response_model=ResetOut,
    responses={404: {"model": ErrorOut}},
)
async def reset_conversation(body: ResetIn, state: State) -> ResetOut:
    if not state.conversations.reset(body.conversation_id):
        raise HTTPException(404, f"unknown or expired conversation_id {body.conversation_id!r}")
    return ResetOut(conversation_id=body.conversation_id, reset=True)
