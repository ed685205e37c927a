"""`create_app`: the secretary's HTTP API on FastAPI.

Endpoints: GET / (what this is), GET /health, POST /chat, POST /tts, POST /stt,
POST /process_call, POST /reset_conversation; OpenAPI at /openapi.json, docs at /docs.
The speech engines load in the background when the app starts: until then (or if one
failed) the endpoints that need it answer 503 saying which and why; /chat needs none.
/chat and /process_call answer as calls do: the rules, with the `llm:` section's language
models when it has any (the rules answer when none does); a message taken is stored in the
calls database (storage.database or storage.url) and sent to the staff (notify:).
Errors are JSON {"detail": "..."}: 400 unknown language/persona/voice or bad WAV,
404 unknown conversation, 409 a conversation that ended, 413 too long, 415 wrong upload
type, 422 invalid body (text too long, ...), 503 engines not ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Literal

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from ari_app import __version__
from ari_app.api.audio import BadAudio
from ari_app.api.conversations import ConversationStore
from ari_app.api.health import check_database
from ari_app.api.messages import ApiMessages
from ari_app.api.routes_speech import router as speech_router
from ari_app.api.routes_talk import router as talk_router
from ari_app.api.schemas import EndpointOut, EngineStatus, HealthOut, InfoOut
from ari_app.api.settings import ApiConfig
from ari_app.api.speech import (
    EngineFailed,
    NothingToSay,
    NotReady,
    PartStatus,
    Speech,
    SpeechEngines,
    UnknownChoice,
)
from ari_app.api.state import ApiState, get_state
from ari_app.config import Config
from ari_app.llm.chain import FallbackChain
from ari_app.mind.persona import Persona
from ari_app.notify.base import Notifications
from ari_app.storage import CallStore

_ERROR_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (BadAudio, 400),
    (UnknownChoice, 400),
    (NothingToSay, 422),
    (NotReady, 503),
    (EngineFailed, 503),
)


def _engine(status: PartStatus) -> EngineStatus:
    return EngineStatus(name=status.name, loaded=status.loaded, error=status.error)


def create_app(
    config: Config,
    engines: SpeechEngines,
    personas: Mapping[str, Persona],
    *,
    settings: ApiConfig | None = None,
    notifications: Notifications | None = None,
    llm: FallbackChain | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """The API over unloaded (or loaded) engines; they load when the app starts. `llm` (the
    config's `llm:` section, llm/factory.py `build_chain`) answers the conversations with the
    rules, and is closed when the app stops; the calls database opens when the app starts."""
    api = settings or ApiConfig()
    notify = notifications or Notifications()
    state = ApiState(
        config=config,
        settings=api,
        speech=Speech(engines),
        personas=dict(personas),
        conversations=ConversationStore(
            ttl_s=api.conversation_ttl_s, max_conversations=api.max_conversations, clock=clock
        ),
        notifications=notify,
        messages=ApiMessages(CallStore(config.storage.target, node=config.storage.node), notify),
        llm=llm,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.messages.open()
        loading = asyncio.create_task(state.speech.load(), name="api-load-engines")
        try:
            yield
        finally:
            if not loading.done():
                loading.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loading
            await state.messages.close()  # the notifications drained first
            if state.llm is not None:
                await state.llm.aclose()

    app = FastAPI(
        title="AI secretary",
        version=__version__,
        description=(__doc__ or "").split("\n\n", 1)[0],
        lifespan=lifespan,
    )
    app.state.api = state
    app.add_exception_handler(RequestValidationError, _invalid)
    for exc_type, status in _ERROR_STATUS:
        app.add_exception_handler(exc_type, _handler(status))
    app.include_router(talk_router)
    app.include_router(speech_router)
    app.add_api_route("/", info, methods=["GET"], response_model=InfoOut, summary="What this is")
    app.add_api_route(
        "/health",
        health,
        methods=["GET"],
        response_model=HealthOut,
        summary="Engines loaded, persona valid, call database reachable (503 if not)",
        responses={503: {"model": HealthOut}},
    )
    return app


def _invalid(request: Request, exc: Exception) -> Response:
    """422 with the problems in words (the default echoes the whole input back)."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err.get("loc", ()))
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return JSONResponse({"detail": "; ".join(problems)}, status_code=422)


def _handler(status: int) -> Callable[[Request, Exception], Response]:
    def handle(request: Request, exc: Exception) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return handle


async def info(request: Request) -> InfoOut:
    state = get_state(request)
    paths = request.app.openapi().get("paths", {})
    endpoints = [
        EndpointOut(method=method.upper(), path=path, summary=op.get("summary", ""))
        for path, operations in paths.items()
        for method, op in operations.items()
    ]
    return InfoOut(
        name="ai-secretary",
        version=__version__,
        description="AI telephone secretary: chat, speech synthesis and recognition",
        default_language=state.config.default_language,
        languages=state.speech.languages,
        endpoints=sorted(endpoints, key=lambda e: (e.path, e.method)),
    )


async def health(request: Request, response: Response) -> HealthOut:
    state = get_state(request)
    speech = state.speech
    database = await check_database(state.config.storage.target)
    problem = state.persona_problem
    status: Literal["ok", "loading", "degraded"]
    if speech.loading:
        status = "loading"
    elif speech.all_loaded and problem is None and database.ok:
        status = "ok"
    else:
        status = "degraded"
    if status != "ok":
        response.status_code = 503
    return HealthOut(
        status=status,
        engines_loaded=speech.all_loaded,
        stt=_engine(speech.stt_status) if speech.stt_status is not None else None,
        tts={lang: _engine(s) for lang, s in speech.tts_status.items()},
        personas={name: sorted(p.languages) for name, p in state.personas.items()},
        persona_ok=problem is None,
        persona_problem=problem,
        database=database,
        conversations=len(state.conversations),
    )
