"""The console's Voices page (admin): the cloned voices' reference clips, checked as
`secretary voice add` checks them (tts/voices.py), the voice each language speaks with, a
sentence spoken by it, and the choice of voice per language or per line (written to the
config, used from the next start).

`GET /api/voices`, `POST /api/voices` (multipart: name, replace, files),
`POST /api/voices/speak`, `PUT /api/voices/choice`, `DELETE /api/voices/choice?line=`."""

# no `from __future__ import annotations`: FastAPI reads the routes' annotations, which
# name dependencies local to the router's builder
import asyncio
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any, get_args

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Response,
    UploadFile,
)
from pydantic import BaseModel, Field

from ari_app.api.audio import encode_wav
from ari_app.config import Config, VoiceConfig, parse_config
from ari_app.console.auth import Auth, Caller, require
from ari_app.console.users import UserStore
from ari_app.engines import Engines
from ari_app.errors import ConfigError
from ari_app.tts.voices import add_voice, list_voices
from ari_app.yaml_edit import atomic_write, merged_text
from ari_app.yaml_file import parse_yaml

MAX_CLIP_BYTES = 20 * 1024 * 1024  # 30 s of 48 kHz stereo 16-bit is 5.8 MB
MAX_SPOKEN_CHARS = 300


class SpeakIn(BaseModel):
    language: str
    text: str = Field(min_length=1, max_length=MAX_SPOKEN_CHARS)
    line: str | None = None  # speak with the line's own voice (lines.<line>.voice), if any


class VoiceChoice(BaseModel):
    language: str  # with `line`: ignored, the line speaks its own language
    engine: str
    voice: str = Field(min_length=1)
    line: str | None = None  # written to lines.<line>.voice instead of tts.voices.<language>


def save_voice_choice(config_path: Path, language: str, choice: dict[str, str] | None,
                      env: Mapping[str, str] | None = None,
                      line: str | None = None) -> Config:
    """Write tts.voices.<language>, or lines.<line>.voice for a line the config has (the
    language is then not used), into the config, checked with the whole config first; a
    line's choice None removes its own voice (it speaks its language's again). Returns the
    config as written."""
    text = config_path.read_text(encoding="utf-8")
    data = parse_yaml(text, str(config_path))
    if not isinstance(data, dict):
        raise ConfigError(f"{config_path}: expected a mapping at the top level")
    if line is not None:
        lines = data.get("lines")
        if not isinstance(lines, dict) or line not in lines:
            raise ConfigError(f"{config_path}: lines.{line}: no such line in the config")
        lines = dict(lines)
        own = dict(lines[line]) if isinstance(lines[line], dict) else {}
        own.pop("voice", None)
        lines[line] = own if choice is None else {**own, "voice": choice}
        data["lines"] = lines
    elif choice is None:
        raise ConfigError(f"{config_path}: tts.voices.{language}: a language needs a voice")
    else:
        tts = dict(data.get("tts") or {})
        voices = dict(tts.get("voices") or {})
        voices[language] = choice
        tts["voices"] = voices
        data["tts"] = tts
    written = parse_config(data, str(config_path), env)  # ConfigError naming the key
    atomic_write(config_path.with_name(config_path.name + ".bak"), text)
    atomic_write(config_path, merged_text(text, data))
    return written


@dataclass(frozen=True)
class VoiceSetup:
    """What the Voices page works on: the running config, its engines and its file."""

    cfg: Config
    engines: Engines | None
    config_path: Path | None
    env: Mapping[str, str] | None = None  # the config's environment (default: os.environ)


def choices_of(cfg: Config) -> dict[str, dict[str, str] | None]:
    """The voice of each language ("lang:ru") and each line ("line:100", None when it speaks
    its language's) in `cfg`."""
    out: dict[str, dict[str, str] | None] = {
        f"lang:{lang}": v.model_dump() for lang, v in cfg.tts.voices.items()}
    out.update({f"line:{name}": line.voice.model_dump() if line.voice else None
                for name, line in cfg.lines.items()})
    return out


def next_start(setup: VoiceSetup) -> dict[str, dict[str, str] | None]:
    """The choices the config file makes that the running app does not use yet (saved here or
    by hand since the start), by the keys of `choices_of`; {} when the file cannot be read or
    checked (the page then shows what runs)."""
    if setup.config_path is None:
        return {}
    try:
        data = parse_yaml(setup.config_path.read_text(encoding="utf-8"), str(setup.config_path))
        if not isinstance(data, dict):
            return {}
        written = choices_of(parse_config(data, str(setup.config_path), setup.env))
    except (OSError, UnicodeDecodeError, ConfigError):
        return {}
    running = choices_of(setup.cfg)
    return {key: choice for key, choice in written.items()
            if key in running and choice != running[key]}


def voices_router(auth: Auth, users: UserStore, setup: VoiceSetup) -> APIRouter:
    cfg, engines, config_path = setup.cfg, setup.engines, setup.config_path
    router = APIRouter(tags=["voices"])
    Admin = Annotated[Caller, Depends(require(auth, "admin"))]
    voices_dir = cfg.paths.voices_dir

    @router.get("/voices")
    async def voices(_: Admin) -> dict[str, Any]:
        """The cloned voices (their clips' summary), and the voice of each language and each
        configured line now (a line's `voice` is null when it speaks its language's), and
        `next_start`: the choices the config file holds that take effect at the next start."""
        cloned = await asyncio.to_thread(list_voices, voices_dir)
        pending = await asyncio.to_thread(next_start, setup)
        return {
            "voices_dir": str(voices_dir),
            "cloned": [{"name": v.get("name"), "created": v.get("created"),
                        "clips": len(v.get("clips") or []),
                        "total_duration_s": v.get("total_duration_s"), "error": v.get("error")}
                       for v in cloned],
            "in_use": {lang: v.model_dump() for lang, v in cfg.tts.voices.items()},
            "fallback": {lang: v.model_dump() for lang, v in cfg.tts.fallback.items()},
            "lines": {name: {"language": cfg.language_for(name),
                             "voice": line.voice.model_dump() if line.voice else None}
                      for name, line in cfg.lines.items()},
            "engines": list(get_args(VoiceConfig.model_fields["engine"].annotation)),
            "next_start": pending,
        }

    @router.post("/voices", status_code=201, responses={422: {}})
    async def add(
        admin: Admin,
        name: Annotated[str, Form()],
        files: Annotated[list[UploadFile], File(description="16-bit WAV clips, 3-30 s each")],
        replace: Annotated[bool, Form()] = False,
    ) -> dict[str, Any]:
        """Check the clips and keep them as voice `name` (nothing is kept if one fails)."""
        with tempfile.TemporaryDirectory(prefix="voice-upload-") as tmp:
            paths = []
            for i, upload in enumerate(files):
                data = await upload.read(MAX_CLIP_BYTES + 1)
                if len(data) > MAX_CLIP_BYTES:
                    raise HTTPException(413, f"{upload.filename}: over "
                                             f"{MAX_CLIP_BYTES // 2**20} MB")
                safe = Path(upload.filename or f"clip-{i + 1}.wav").name or f"clip-{i + 1}.wav"
                path = Path(tmp) / str(i) / safe  # the admin's own file name, in messages
                path.parent.mkdir()
                path.write_bytes(data)
                paths.append(path)
            report = await asyncio.to_thread(add_voice, name, paths, voices_dir,
                                             replace=replace)
        body = {
            "name": report.name, "ok": report.ok, "problems": report.problems,
            "total_duration_s": round(report.total_duration_s, 2),
            "clips": [{**{k: v for k, v in asdict(c).items() if k != "path"},
                       "file": c.path.name} for c in report.clips],
        }
        if not report.ok:
            raise HTTPException(422, body)
        await users.audit(admin.name, "voice_add", name=name, clips=len(files), replace=replace)
        return body

    @router.post("/voices/speak", responses={200: {"content": {"audio/wav": {}}}})
    async def speak(body: SpeakIn, _: Admin) -> Response:
        """`text` spoken by the voice the language (or the line, with `line`) uses now, as
        audio/wav."""
        language = body.language
        if body.line is not None:  # the line speaks its own language
            if body.line not in cfg.lines:
                raise HTTPException(404, f"no line {body.line!r} in the config")
            language = cfg.language_for(body.line)
        if engines is None or language not in engines.tts:
            raise HTTPException(404, f"no voice for language {language!r}")
        tts = engines.voice(language, body.line)
        pcm = b"".join([chunk async for chunk in tts.synthesize(body.text)])
        wav = await asyncio.to_thread(encode_wav, pcm, tts.sample_rate)
        return Response(wav, media_type="audio/wav")

    @router.put("/voices/choice", responses={422: {}, 503: {}})
    async def choose(body: VoiceChoice, admin: Admin) -> dict[str, Any]:
        """The voice for a language, or for a line (`line`; `language` is then ignored),
        written to the config; used from the next start."""
        if config_path is None:
            raise HTTPException(503, "the app was started without a config file to write")
        choice = {"engine": body.engine, "voice": body.voice}
        try:
            written = await asyncio.to_thread(save_voice_choice, config_path, body.language,
                                              choice, setup.env, body.line)
        except ConfigError as exc:
            raise HTTPException(422, str(exc)) from None
        language = body.language if body.line is None else written.language_for(body.line)
        await users.audit(admin.name, "voice_choice", language=language, line=body.line,
                          **choice)
        return {"language": language, "line": body.line, **choice, "restart_needed": True}

    @router.delete("/voices/choice", responses={422: {}, 503: {}})
    async def reset(line: Annotated[str, Query(description="the line")],
                    admin: Admin) -> dict[str, Any]:
        """The line's own voice removed from the config: from the next start it speaks with
        its language's voice."""
        if config_path is None:
            raise HTTPException(503, "the app was started without a config file to write")
        try:
            written = await asyncio.to_thread(save_voice_choice, config_path, "", None,
                                              setup.env, line)
        except ConfigError as exc:
            raise HTTPException(422, str(exc)) from None
        language = written.language_for(line)
        await users.audit(admin.name, "voice_choice", language=language, line=line,
                          engine=None, voice=None)
        return {"language": language, "line": line, "engine": None, "voice": None,
                "restart_needed": True}

    return router
