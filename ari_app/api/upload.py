"""Reading an audio upload: a raw `audio/wav` body or a multipart form field `file`."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from starlette.datastructures import UploadFile

from ari_app.api.audio import MAX_RATE

RAW_TYPES = {"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}

# For the OpenAPI schema of the endpoints that take audio.
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "16-bit PCM mono WAV, 8-48 kHz: the raw body (Content-Type: audio/wav), "
        "or a multipart/form-data upload in the field 'file'",
        "content": {
            "audio/wav": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


def max_upload_bytes(max_audio_s: float) -> int:
    """The largest WAV that can hold `max_audio_s` of 16-bit mono audio at the top rate."""
    return int(max_audio_s * MAX_RATE * 2) + 64 * 1024


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        413, f"the upload is larger than {limit} bytes, too long for api.max_audio_s"
    )


def _declared_too_large(declared: str, limit: int) -> bool:
    """Whether the Content-Length header already says the upload is over `limit` (with room
    for multipart framing). Only ASCII digits are a length: "²" is a digit to str.isdigit()
    but not to int(), and int() refuses a number of more than 4300 digits."""
    if not (declared.isascii() and declared.isdigit()):
        return False  # not a length: the body is measured as it arrives
    return len(declared) > 18 or int(declared) > limit + 16 * 1024


async def read_upload(request: Request, limit: int) -> bytes:
    """The uploaded file's bytes; 413 when over `limit`, 415 for another content type."""
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if _declared_too_large(request.headers.get("content-length", ""), limit):
        raise _too_large(limit)
    if ctype == "multipart/form-data":
        async with request.form(max_files=1, max_fields=8) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise HTTPException(400, "the multipart upload has no file in the field 'file'")
            data = await upload.read(limit + 1)
    elif ctype in RAW_TYPES:
        buf = bytearray()
        async for chunk in request.stream():
            buf.extend(chunk)
            if len(buf) > limit:
                raise _too_large(limit)
        data = bytes(buf)
    else:
        raise HTTPException(
            415,
            f"send the WAV as the body with Content-Type audio/wav, or as multipart/form-data "
            f"field 'file' (got Content-Type {ctype or 'none'!r})",
        )
    if len(data) > limit:
        raise _too_large(limit)
    return data
