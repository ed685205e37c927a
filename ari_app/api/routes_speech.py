"""POST /tts and POST /stt."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from ari_app.api.audio import Audio, decode_wav, encode_wav
from ari_app.api.schemas import ErrorOut, SttOut, TtsIn
from ari_app.api.state import ApiState, get_state
from ari_app.api.upload import UPLOAD_BODY, max_upload_bytes, read_upload

router = APIRouter()
State = Annotated[ApiState, Depends(get_state)]
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorOut} for code in (400, 413, 415, 422, 503)
}


async def read_audio(request: Request, state: ApiState) -> Audio:
    """The uploaded WAV, decoded (in a thread), within api.max_audio_s."""
    limit_s = state.settings.max_audio_s
    data = await read_upload(request, max_upload_bytes(limit_s))
    audio = await asyncio.to_thread(decode_wav, data)
    if audio.duration_s > limit_s:
        raise HTTPException(
            413, f"the audio is {audio.duration_s:.1f} s long; the limit is {limit_s:g} s "
            "(api.max_audio_s)",
        )  # fmt: skip
    return audio


@router.post(
    "/tts",
    summary="Speak a text in the configured voice; returns a WAV file",
    response_class=Response,
    responses={
        200: {
            "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}},
            "description": "16-bit mono WAV; headers X-Voice (the engine that spoke), "
            "X-Sample-Rate, X-Duration-S",
        },
        **ERRORS,
    },
)
async def tts(body: TtsIn, state: State) -> Response:
    language = body.language or state.config.default_language
    pcm, rate, voice = await state.speech.synthesize(body.text, language, body.voice)
    wav = await asyncio.to_thread(encode_wav, pcm, rate)
    headers = {
        "X-Voice": voice,
        "X-Sample-Rate": str(rate),
        "X-Duration-S": f"{len(pcm) / 2 / rate:.3f}",
    }
    return Response(content=wav, media_type="audio/wav", headers=headers)


@router.post(
    "/stt",
    summary="Transcribe an uploaded WAV",
    response_model=SttOut,
    responses=ERRORS,
    openapi_extra=UPLOAD_BODY,
)
async def stt(
    request: Request,
    state: State,
    language: Annotated[
        str | None, Query(pattern=r"^[a-z]{2,3}$", description="default: the config's")
    ] = None,
) -> SttOut:
    lang = language or state.config.default_language
    state.speech.check_language(lang)
    state.speech.require_stt()  # before reading the upload
    audio = await read_audio(request, state)
    transcript = await state.speech.transcribe(audio, lang)
    return SttOut(
        text=transcript.text,
        language=transcript.language,
        duration_s=round(audio.duration_s, 3),
        elapsed_s=round(transcript.elapsed_s, 3),
    )
