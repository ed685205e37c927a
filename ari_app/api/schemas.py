"""Request and response bodies of the HTTP API (they make its OpenAPI schema)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_TEXT_CHARS = 1000  # longer texts are refused (422): a secretary's turn is a few sentences


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    detail: str = Field(description="what is wrong, in words")


class MessageOut(BaseModel):
    """A message the secretary took for the staff (sent to them by e-mail / webhook)."""

    name: str | None = None
    callback_number: str | None = None
    reason: str | None = None
    urgency: str | None = None
    caller_id: str | None = None
    recipient: str | None = None
    language: str | None = None
    # false: the conversation ended before the caller confirmed it (said goodbye mid-way)
    confirmed: bool = True


class ChatIn(_Body):
    text: str = Field(
        default="",
        max_length=MAX_TEXT_CHARS,
        description="what the caller says; empty when starting a conversation (the reply is "
        "then the greeting)",
    )
    conversation_id: str | None = Field(
        default=None, max_length=64, description="from an earlier reply; omit to start anew"
    )
    language: str | None = Field(
        default=None, pattern=r"^[a-z]{2,3}$", description="default: the config's"
    )
    persona: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$", description="default: the config's"
    )


class TurnOut(BaseModel):
    reply: str = Field(description="what the secretary says")
    intent: str = Field(description="greeting, hours, goodbye, not_understood, unknown, ...")
    conversation_id: str
    language: str
    persona: str
    end_call: bool = Field(description="the secretary said goodbye; the conversation is over")
    transfer: str | None = Field(default=None, description="where the call would be transferred")
    message: MessageOut | None = Field(default=None, description="a message taken for the staff")


class ChatOut(TurnOut):
    pass


class TtsIn(_Body):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    language: str | None = Field(
        default=None, pattern=r"^[a-z]{2,3}$", description="default: the config's"
    )
    voice: str | None = Field(
        default=None,
        max_length=200,
        description="one of the language's configured voices (e.g. 'anna' or 'rhvoice:anna'); "
        "default: the configured voice with its fallback",
    )


class SttOut(BaseModel):
    text: str
    language: str
    duration_s: float = Field(description="length of the uploaded audio")
    elapsed_s: float = Field(description="time the recognition took")


class Timings(BaseModel):
    stt_s: float
    dialogue_s: float
    tts_s: float


class ProcessCallOut(TurnOut):
    """One caller turn: the caller's audio in, the secretary's words and voice out."""

    transcript: str = Field(description="what the caller said, as recognised")
    audio_base64: str = Field(description="the reply spoken: a WAV file (16-bit mono), base64")
    audio_format: Literal["wav"] = "wav"
    sample_rate: int
    voice: str = Field(description="the TTS engine that spoke")
    input_duration_s: float
    reply_duration_s: float
    timings: Timings


class ResetIn(_Body):
    conversation_id: str = Field(min_length=1, max_length=64)


class ResetOut(BaseModel):
    conversation_id: str
    reset: bool = Field(description="true: the conversation existed and is now forgotten")


class EngineStatus(BaseModel):
    name: str
    loaded: bool
    error: str | None = None


class DatabaseStatus(BaseModel):
    ok: bool
    path: str
    detail: str


class HealthOut(BaseModel):
    status: Literal["ok", "loading", "degraded"]
    engines_loaded: bool
    stt: EngineStatus | None
    tts: dict[str, EngineStatus]
    personas: dict[str, list[str]] = Field(description="persona name -> its languages")
    persona_ok: bool
    persona_problem: str | None = None
    database: DatabaseStatus
    conversations: int


class EndpointOut(BaseModel):
    method: str
    path: str
    summary: str


class InfoOut(BaseModel):
    name: str
    version: str
    description: str
    default_language: str
    languages: list[str]
    endpoints: list[EndpointOut]
