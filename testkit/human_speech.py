"""The labelled set of real human speech at 8 kHz (``tests/data/human_speech``).

The recordings are the Asterisk core prompts that Debian ships, spoken by human announcers
(``asterisk-core-sounds-ru-wav``, ``asterisk-core-sounds-en-wav``); their transcripts come from
the small ``asterisk-core-sounds-ru`` / ``-en`` packages. ``manifest.json`` lists the clips: each
one is one or more prompts joined with labelled pauses (a greeting, a phone number dictated
digit by digit or in groups, a request with a pause in the middle, ...). A few clips use the
synthetic RHVoice lines the call tests already use (``source: "rhvoice"``) for comparison.

``assemble(outdir)`` fetches the ``.deb`` files with ``apt-get download`` (kept in
``var/cache/debs``), reads only the prompts it needs out of them, and writes per clip
``ID.wav`` (16-bit mono 8 kHz), ``ID.ulaw`` / ``ID.alaw`` (headerless G.711 for sipp's
rtp_stream) and ``ID.json`` (the labels and the sample span of every part's speech).
Idempotent: a clip whose ``ID.json`` carries the stamp of its manifest entry is kept.

Each prompt is trimmed gently: only where the 10 ms level stays below -55 dBFS, keeping a 60 ms
margin (padded with zeros where the recording has less). A part's ``pause_after_ms`` is the gap
between the end of its speech and the start of the next part's speech.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
import wave
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ari_app.media.codecs import alaw_encode, ulaw_encode

REPO = Path(__file__).resolve().parent.parent
MANIFEST_PATH = REPO / "tests" / "data" / "human_speech" / "manifest.json"
DEFAULT_CACHE_DIR = REPO / "var" / "cache" / "debs"

SAMPLE_RATE = 8000
SILENCE_DBFS = -55.0  # trimmed only where the 10 ms level stays below this
FRAME_SAMPLES = SAMPLE_RATE // 100  # 10 ms
MARGIN_SAMPLES = SAMPLE_RATE * 60 // 1000  # 60 ms kept around the speech
MIN_INNER_PAUSE_MS = 60  # a part's margin never overlaps the previous part's speech
MAX_PAUSE_MS = 5000
MAX_CLIP_S = 30.0
BUILD_VERSION = "1"  # bump when the assembly changes, so that every clip is rebuilt

LANGUAGES = ("ru", "en")
KINDS = (
    "short", "greeting", "goodbye", "number_digits", "number_groups", "question_pause",
    "sentence",
)  # fmt: skip
NUMBER_KINDS = ("number_digits", "number_groups")
END_LABELS = ("incomplete", "complete")
SYNTHETIC_SOURCE = "rhvoice"
ROLES = ("recordings", "transcripts", "synthetic")

Progress = Callable[[str], None]


class HumanSpeechError(RuntimeError):
    """The manifest is invalid, or a package could not be fetched or read."""


# --- the manifest ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One place the audio or the transcripts come from (a Debian package, or RHVoice)."""

    name: str
    role: str  # "recordings", "transcripts" or "synthetic"
    language: str | None
    version: str | None
    sha256: str | None  # of the .deb, checked after apt-get download
    speaker: str | None  # None for a transcripts package
    licence: str
    copyright: str  # the attribution
    get: str  # how to get it, for people
    sounds_dir: str | None = None  # recordings: the prompts' folder inside the package
    transcripts: str | None = None  # recordings: the package with the prompts' transcripts
    transcript_file: str | None = None  # transcripts: the "name: text" list inside the package

    @property
    def is_deb(self) -> bool:
        return self.role in ("recordings", "transcripts")


@dataclass(frozen=True)
class Part:
    """One prompt of a clip and the pause after its speech (0 for the last part)."""

    prompt: str
    pause_after_ms: int


@dataclass(frozen=True)
class ClipSpec:
    """One clip of the manifest."""

    id: str
    language: str
    source: str
    kind: str
    parts: tuple[Part, ...]
    text: str
    ends: tuple[str, ...]
    digits: str | None
    entry: Mapping[str, Any] = field(compare=False, repr=False)  # as written, for the stamp


@dataclass(frozen=True)
class Manifest:
    sources: dict[str, Source]
    clips: tuple[ClipSpec, ...]
    path: Path

    def clip(self, clip_id: str) -> ClipSpec:
        for clip in self.clips:
            if clip.id == clip_id:
                return clip
        raise KeyError(clip_id)

    def transcripts_for(self, language: str) -> Source:
        for source in self.sources.values():
            if source.role == "transcripts" and source.language == language:
                return source
        raise HumanSpeechError(f"{self.path.name}: no transcripts source for {language!r}")


def _req(obj: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
        raise HumanSpeechError(f"{where}: {key!r} must be a {kind.__name__}, got {value!r}")
    return value


def _opt_str(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise HumanSpeechError(f"{where}: {key!r} must be a string, got {value!r}")
    return value


def _parse_source(raw: Mapping[str, Any], where: str) -> Source:
    role = _req(raw, "role", str, where)
    if role not in ROLES:
        raise HumanSpeechError(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
    source = Source(
        name=_req(raw, "name", str, where),
        role=role,
        language=_opt_str(raw, "language", where),
        version=_opt_str(raw, "version", where),
        sha256=_opt_str(raw, "sha256", where),
        speaker=_opt_str(raw, "speaker", where),
        licence=_req(raw, "licence", str, where),
        copyright=_req(raw, "copyright", str, where),
        get=_req(raw, "get", str, where),
        sounds_dir=_opt_str(raw, "sounds_dir", where),
        transcripts=_opt_str(raw, "transcripts", where),
        transcript_file=_opt_str(raw, "transcript_file", where),
    )
    if source.is_deb and not (source.version and source.language in LANGUAGES):
        raise HumanSpeechError(f"{where}: a package needs a version and a language")
    if role == "recordings" and not (source.sounds_dir and source.transcripts):
        raise HumanSpeechError(f"{where}: recordings need sounds_dir and transcripts")
    if role != "transcripts" and not source.speaker:
        raise HumanSpeechError(f"{where}: audio needs a speaker")
    if role == "transcripts" and not source.transcript_file:
        raise HumanSpeechError(f"{where}: transcripts need transcript_file")
    return source


def _parse_clip(raw: Mapping[str, Any], sources: Mapping[str, Source], where: str) -> ClipSpec:
    clip_id = _req(raw, "id", str, where)
    where = f"{where} {clip_id!r}"
    if not re.fullmatch(r"[a-z0-9_]+", clip_id):
        raise HumanSpeechError(f"{where}: an id is lower-case letters, digits and '_'")
    language = _req(raw, "language", str, where)
    if language not in LANGUAGES:
        raise HumanSpeechError(f"{where}: language {language!r} is not one of {LANGUAGES}")
    source_name = _req(raw, "source", str, where)
    source = sources.get(source_name)
    if source is None or source.role == "transcripts":
        raise HumanSpeechError(f"{where}: unknown audio source {source_name!r}")
    if source.role == "recordings" and source.language != language:
        raise HumanSpeechError(f"{where}: {source_name} is not in {language!r}")
    kind = _req(raw, "kind", str, where)
    if kind not in KINDS:
        raise HumanSpeechError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    raw_parts = _req(raw, "parts", list, where)
    if not raw_parts:
        raise HumanSpeechError(f"{where}: no parts")
    parts = []
    for i, raw_part in enumerate(raw_parts):
        if not isinstance(raw_part, dict):
            raise HumanSpeechError(f"{where}: part {i} is not an object")
        prompt = _req(raw_part, "prompt", str, f"{where} part {i}")
        pause = _req(raw_part, "pause_after_ms", int, f"{where} part {i}")
        last = i == len(raw_parts) - 1
        if last and pause != 0:
            raise HumanSpeechError(f"{where}: the last part's pause_after_ms must be 0")
        if not last and not MIN_INNER_PAUSE_MS <= pause <= MAX_PAUSE_MS:
            raise HumanSpeechError(
                f"{where}: part {i} pause_after_ms {pause} is outside "
                f"{MIN_INNER_PAUSE_MS}..{MAX_PAUSE_MS}"
            )
        if not re.fullmatch(r"[A-Za-z0-9_/-]+", prompt) or ".." in prompt:
            raise HumanSpeechError(f"{where}: bad prompt name {prompt!r}")
        parts.append(Part(prompt, pause))
    ends = tuple(_req(raw, "ends", list, where))
    if len(ends) != len(parts) or any(e not in END_LABELS for e in ends):
        raise HumanSpeechError(f"{where}: ends must be one of {END_LABELS} per part")
    if ends[-1] != "complete" or "complete" in ends[:-1]:
        raise HumanSpeechError(f"{where}: only the last end is 'complete'")
    digits = _opt_str(raw, "digits", where)
    if (kind in NUMBER_KINDS) != (digits is not None):
        raise HumanSpeechError(f"{where}: 'digits' is for (and required in) number clips")
    if digits is not None and not digits.isdigit():
        raise HumanSpeechError(f"{where}: digits {digits!r} are not all digits")
    text = _req(raw, "text", str, where)
    if not text.strip():
        raise HumanSpeechError(f"{where}: empty text")
    return ClipSpec(
        id=clip_id, language=language, source=source_name, kind=kind, parts=tuple(parts),
        text=text, ends=ends, digits=digits, entry=raw,
    )


def load_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    """Read and check ``manifest.json``; HumanSpeechError names the first problem found."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HumanSpeechError(f"cannot read {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise HumanSpeechError(f"{path.name}: not a JSON object")
    sources: dict[str, Source] = {}
    for i, raw_source in enumerate(_req(raw, "sources", list, path.name)):
        if not isinstance(raw_source, dict):
            raise HumanSpeechError(f"{path.name}: source {i} is not an object")
        source = _parse_source(raw_source, f"{path.name} source {i}")
        if source.name in sources:
            raise HumanSpeechError(f"{path.name}: source {source.name} listed twice")
        sources[source.name] = source
    for source in sources.values():
        if source.role == "recordings":
            peer = sources.get(source.transcripts or "")
            if peer is None or peer.role != "transcripts" or peer.language != source.language:
                raise HumanSpeechError(f"{path.name}: {source.name}: no such transcripts")
    clips: list[ClipSpec] = []
    seen: set[str] = set()
    for i, raw_clip in enumerate(_req(raw, "clips", list, path.name)):
        if not isinstance(raw_clip, dict):
            raise HumanSpeechError(f"{path.name}: clip {i} is not an object")
        clip = _parse_clip(raw_clip, sources, f"{path.name} clip")
        if clip.id in seen:
            raise HumanSpeechError(f"{path.name}: clip id {clip.id!r} used twice")
        seen.add(clip.id)
        clips.append(clip)
    return Manifest(sources=sources, clips=tuple(clips), path=path)


def normalise_words(text: str) -> list[str]:
    """Lower-case words without punctuation (ё as е), for comparing transcripts."""
    text = text.lower().replace("ё", "е")
    return re.findall(r"[\w']+", text)


# --- the Debian packages ---------------------------------------------------------------------


def _run(cmd: list[str], cwd: Path | None = None, timeout: float = 600,
         stdin: bytes | None = None) -> None:
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, input=stdin, capture_output=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HumanSpeechError(f"{subprocess.list2cmdline(cmd)}: {exc}") from exc
    if proc.returncode != 0:
        raise HumanSpeechError(
            f"{subprocess.list2cmdline(cmd)} failed ({proc.returncode}): "
            f"{(proc.stderr or proc.stdout).decode(errors='replace').strip()}"
        )


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def fetch_deb(
    source: Source, cache_dir: Path = DEFAULT_CACHE_DIR, progress: Progress | None = None
) -> Path:
    """The source's ``.deb`` in ``cache_dir``, fetched with ``apt-get download`` if missing."""
    if not source.is_deb or source.version is None:
        raise HumanSpeechError(f"{source.name} is not a Debian package")
    # apt-get names the file NAME_VERSION_ARCH.deb with ':' (an epoch) written as %3a
    stem = f"{source.name}_{source.version.replace(':', '%3a')}_"
    cached = sorted(cache_dir.glob(f"{stem}*.deb"))
    if cached:
        if source.sha256 and _sha256(cached[0]) != source.sha256:
            raise HumanSpeechError(
                f"{cached[0]}: sha256 {_sha256(cached[0])} is not the manifest's "
                f"{source.sha256}; remove the file to download it again"
            )
        return cached[0]
    spec = f"{source.name}={source.version}"
    if shutil.which("apt-get") is None:
        raise HumanSpeechError(
            f"apt-get is not available to download {spec}: put the package as "
            f"{stem}all.deb into {cache_dir}"
        )
    if progress:
        progress(f"apt-get download {spec}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".download-") as tmp:
        try:
            _run(["apt-get", "download", "-q", spec], cwd=Path(tmp))
        except HumanSpeechError as exc:
            raise HumanSpeechError(
                f"could not download {spec} from the Debian mirror ({exc}); is a bookworm "
                f"'main' source configured and `apt-get update` done? Alternatively put "
                f"{stem}all.deb into {cache_dir}"
            ) from exc
        got = sorted(Path(tmp).glob(f"{stem}*.deb"))
        if not got:
            raise HumanSpeechError(f"apt-get download {spec} left no {stem}*.deb")
        if source.sha256 and _sha256(got[0]) != source.sha256:
            raise HumanSpeechError(
                f"{got[0].name}: sha256 {_sha256(got[0])} is not the manifest's {source.sha256}"
            )
        target = cache_dir / got[0].name
        got[0].replace(target)
    return target


def read_deb_members(deb: Path, members: Iterable[str]) -> dict[str, bytes]:
    """The contents of the named files (paths without a leading '/') of a ``.deb``'s data.

    Streams ``dpkg-deb --fsys-tarfile`` and stops once every file was seen; HumanSpeechError
    lists the files that are not in the package.
    """
    wanted = {m.lstrip("/") for m in members}
    found: dict[str, bytes] = {}
    if not wanted:
        return found
    if shutil.which("dpkg-deb") is None:
        raise HumanSpeechError("dpkg-deb is not installed (it comes with dpkg)")
    cmd = ["dpkg-deb", "--fsys-tarfile", str(deb)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if name in wanted and member.isfile():
                    f = tar.extractfile(member)
                    if f is not None:
                        found[name] = f.read()
                    if len(found) == len(wanted):
                        break
    except tarfile.TarError as exc:
        raise HumanSpeechError(f"{deb.name}: not a readable package ({exc})") from exc
    finally:
        complete = len(found) == len(wanted)
        if complete:
            proc.kill()  # the rest of the archive is not needed
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace").strip()
        proc.stderr.close()
        rc = proc.wait()
    if not complete:
        if rc != 0:
            raise HumanSpeechError(f"{subprocess.list2cmdline(cmd)} failed ({rc}): {err}")
        missing = ", ".join(sorted(wanted - found.keys()))
        raise HumanSpeechError(f"{deb.name} has no {missing}")
    return found


def parse_transcripts(text: str) -> dict[str, str]:
    """``name: text`` lines (``;`` comments and blank lines skipped) -> name -> text."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(";") or ":" not in line:
            continue
        name, _, said = line.partition(":")
        out[name.strip()] = said.strip()
    return out


def load_transcripts(
    language: str,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    manifest: Manifest | None = None,
    progress: Progress | None = None,
) -> dict[str, str]:
    """Prompt name -> transcript, from the language's transcripts package (fetched if needed)."""
    manifest = manifest or load_manifest()
    source = manifest.transcripts_for(language)
    assert source.transcript_file is not None
    deb = fetch_deb(source, cache_dir, progress)
    data = read_deb_members(deb, [source.transcript_file])[source.transcript_file.lstrip("/")]
    if source.transcript_file.endswith(".gz"):
        data = gzip.decompress(data)
    return parse_transcripts(data.decode("utf-8"))


# --- audio -----------------------------------------------------------------------------------


def read_wav_8k(data: bytes, what: str) -> np.ndarray:
    """16-bit mono 8 kHz WAV bytes -> int16 samples (HumanSpeechError for any other format)."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            fmt = (w.getframerate(), w.getnchannels(), w.getsampwidth())
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise HumanSpeechError(f"{what}: not a readable WAV file ({exc})") from exc
    if fmt != (SAMPLE_RATE, 1, 2):
        raise HumanSpeechError(f"{what}: {fmt} (rate, channels, width) is not 8 kHz mono 16-bit")
    return np.frombuffer(frames, dtype="<i2").astype(np.int16)


def frame_levels_dbfs(samples: np.ndarray) -> np.ndarray:
    """RMS level of each 10 ms frame in dBFS (the last frame zero-padded)."""
    n_frames = -(-len(samples) // FRAME_SAMPLES)
    padded = np.zeros(n_frames * FRAME_SAMPLES, dtype=np.float64)
    padded[: len(samples)] = samples
    power = np.mean(np.square(padded.reshape(n_frames, FRAME_SAMPLES) / 32768.0), axis=1)
    levels: np.ndarray = 10.0 * np.log10(power + 1e-12)
    return levels


def speech_bounds(samples: np.ndarray, what: str = "audio") -> tuple[int, int]:
    """[start, end) samples from the first to the last 10 ms frame at or above -55 dBFS."""
    loud = np.nonzero(frame_levels_dbfs(samples) >= SILENCE_DBFS)[0]
    if len(loud) == 0:
        raise HumanSpeechError(f"{what}: no sound above {SILENCE_DBFS} dBFS")
    return int(loud[0]) * FRAME_SAMPLES, min(len(samples), (int(loud[-1]) + 1) * FRAME_SAMPLES)


def trim(samples: np.ndarray, what: str = "audio") -> np.ndarray:
    """The speech with a 60 ms margin either side (zeros where the recording has less)."""
    start, end = speech_bounds(samples, what)
    padded = np.concatenate([
        np.zeros(MARGIN_SAMPLES, np.int16), samples, np.zeros(MARGIN_SAMPLES, np.int16)
    ])
    return padded[start : end + 2 * MARGIN_SAMPLES]


def compose(
    segments: list[np.ndarray], pauses_ms: list[int]
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Join trimmed segments so that ``pauses_ms[i]`` separates speech i from speech i+1.

    Margins that meet inside a short pause are added together (they are below -55 dBFS).
    Returns the samples and each part's speech span [start, end) in samples.
    """
    spans: list[tuple[int, int]] = []
    speech_start = MARGIN_SAMPLES
    for seg, pause in zip(segments, pauses_ms, strict=True):
        speech_end = speech_start + len(seg) - 2 * MARGIN_SAMPLES
        spans.append((speech_start, speech_end))
        speech_start = speech_end + pause * SAMPLE_RATE // 1000
    total = spans[-1][1] + MARGIN_SAMPLES
    buf = np.zeros(total, dtype=np.int32)
    for seg, (start, _) in zip(segments, spans, strict=True):
        buf[start - MARGIN_SAMPLES : start - MARGIN_SAMPLES + len(seg)] += seg
    return np.clip(buf, -32768, 32767).astype(np.int16), spans


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def wav_bytes(samples: np.ndarray) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(samples.astype("<i2").tobytes())
    return buf.getvalue()


# --- the assembled clips ---------------------------------------------------------------------


@dataclass(frozen=True)
class PartSpan:
    """Where one part's speech lies in the assembled clip."""

    prompt: str
    start_sample: int
    end_sample: int
    pause_after_ms: int
    end: str  # the turn-end label after this part: "incomplete" or "complete"

    @property
    def start_s(self) -> float:
        return self.start_sample / SAMPLE_RATE

    @property
    def end_s(self) -> float:
        return self.end_sample / SAMPLE_RATE


@dataclass(frozen=True)
class HumanClip:
    """One assembled clip: its labels, files and the spans of its parts' speech."""

    id: str
    language: str
    source: str
    kind: str
    text: str
    digits: str | None
    ends: tuple[str, ...]
    parts: tuple[PartSpan, ...]
    samples: int
    wav: Path
    ulaw: Path
    alaw: Path
    labels: Path  # ID.json

    @property
    def duration_s(self) -> float:
        return self.samples / SAMPLE_RATE

    @property
    def human(self) -> bool:
        return self.source != SYNTHETIC_SOURCE

    def pcm(self) -> bytes:
        """The clip as s16le 8 kHz PCM (the WAV file's frames)."""
        with wave.open(str(self.wav)) as w:
            return w.readframes(w.getnframes())


def clip_stamp(clip: ClipSpec, manifest: Manifest) -> str:
    """A hash of everything the clip's files are made from."""
    source = manifest.sources[clip.source]
    payload: dict[str, Any] = {
        "build": BUILD_VERSION,
        "entry": clip.entry,
        "source": [source.name, source.version, source.sha256],
    }
    if clip.source == SYNTHETIC_SOURCE:
        payload["lines"] = [_caller_lines().get(p.prompt) for p in clip.parts]
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def _clip_paths(outdir: Path, clip_id: str) -> dict[str, Path]:
    return {ext: outdir / f"{clip_id}.{ext}" for ext in ("wav", "ulaw", "alaw", "json")}


def _read_labels(outdir: Path, clip_id: str) -> dict[str, Any] | None:
    path = _clip_paths(outdir, clip_id)["json"]
    try:
        labels = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return labels if isinstance(labels, dict) else None


def _is_current(outdir: Path, clip_id: str, stamp: str) -> bool:
    labels = _read_labels(outdir, clip_id)
    if labels is None or labels.get("stamp") != stamp or not isinstance(labels.get("samples"), int):
        return False
    n = labels["samples"]
    paths = _clip_paths(outdir, clip_id)
    sizes = {"wav": 44 + 2 * n, "ulaw": n, "alaw": n}
    return all(paths[ext].is_file() and paths[ext].stat().st_size == size
               for ext, size in sizes.items())


def load_clip(outdir: Path, clip_id: str) -> HumanClip:
    """The assembled clip ``clip_id`` from its ``ID.json`` in ``outdir``."""
    labels = _read_labels(outdir, clip_id)
    if labels is None:
        raise HumanSpeechError(f"{outdir / (clip_id + '.json')}: missing or unreadable")
    paths = _clip_paths(outdir, clip_id)
    return HumanClip(
        id=labels["id"], language=labels["language"], source=labels["source"],
        kind=labels["kind"], text=labels["text"], digits=labels.get("digits"),
        ends=tuple(labels["ends"]),
        parts=tuple(
            PartSpan(p["prompt"], p["start_sample"], p["end_sample"], p["pause_after_ms"],
                     p["end"])
            for p in labels["parts"]
        ),
        samples=labels["samples"], wav=paths["wav"], ulaw=paths["ulaw"], alaw=paths["alaw"],
        labels=paths["json"],
    )


def _caller_lines() -> dict[str, tuple[str, str]]:
    from testkit.runner import CALLER_LINES

    return CALLER_LINES


def _synthesize(line: str, tmp: Path) -> np.ndarray:
    """An RHVoice caller line (``CALLER_LINES``) as 8 kHz 16-bit samples, peak at -3 dBFS."""
    lines = _caller_lines()
    if line not in lines:
        raise HumanSpeechError(f"{line!r} is not a line of testkit.runner.CALLER_LINES")
    for tool in ("RHVoice-test", "sox"):
        if shutil.which(tool) is None:
            raise HumanSpeechError(f"{tool} is not installed (apt-get install rhvoice sox)")
    voice, text = lines[line]
    raw, out = tmp / f"{line}.tts.wav", tmp / f"{line}.8k.wav"
    _run(["RHVoice-test", "-p", voice, "-o", str(raw)], timeout=120,
         stdin=text.encode("utf-8"))
    _run(["sox", str(raw), "-b", "16", "-c", "1", str(out), "gain", "-n", "-3",
          "rate", "-v", str(SAMPLE_RATE)])  # fmt: skip
    return read_wav_8k(out.read_bytes(), f"RHVoice {line}")


def _load_prompts(
    clips: list[ClipSpec], manifest: Manifest, cache_dir: Path, progress: Progress | None,
    tmp: Path,
) -> dict[tuple[str, str], np.ndarray]:
    """(source, prompt) -> samples, for every part of ``clips``."""
    needed: dict[str, set[str]] = {}
    for clip in clips:
        needed.setdefault(clip.source, set()).update(p.prompt for p in clip.parts)
    out: dict[tuple[str, str], np.ndarray] = {}
    for source_name, prompts in sorted(needed.items()):
        source = manifest.sources[source_name]
        if source.role == "synthetic":
            for line in sorted(prompts):
                out[source_name, line] = _synthesize(line, tmp)
            continue
        assert source.language is not None and source.sounds_dir is not None
        transcripts = load_transcripts(source.language, cache_dir, manifest, progress)
        unknown = sorted(prompts - transcripts.keys())
        if unknown:
            raise HumanSpeechError(
                f"{source.transcripts} has no transcript of {', '.join(unknown)}"
            )
        deb = fetch_deb(source, cache_dir, progress)
        members = {p: f"{source.sounds_dir.strip('/')}/{p}.wav" for p in prompts}
        data = read_deb_members(deb, members.values())
        for prompt, member in members.items():
            out[source_name, prompt] = read_wav_8k(data[member], f"{deb.name}:{member}")
    return out


def _build(
    clip: ClipSpec, prompts: Mapping[tuple[str, str], np.ndarray], outdir: Path, stamp: str
) -> None:
    segments = [trim(prompts[clip.source, p.prompt], f"{clip.id}: {p.prompt}")
                for p in clip.parts]
    samples, spans = compose(segments, [p.pause_after_ms for p in clip.parts])
    if len(samples) > MAX_CLIP_S * SAMPLE_RATE:
        raise HumanSpeechError(f"{clip.id}: {len(samples) / SAMPLE_RATE:.1f} s is over "
                               f"{MAX_CLIP_S:.0f} s")
    pcm = samples.astype("<i2").tobytes()
    paths = _clip_paths(outdir, clip.id)
    _write_atomic(paths["wav"], wav_bytes(samples))
    _write_atomic(paths["ulaw"], ulaw_encode(pcm))
    _write_atomic(paths["alaw"], alaw_encode(pcm))
    labels = {
        "id": clip.id,
        "language": clip.language,
        "source": clip.source,
        "kind": clip.kind,
        "text": clip.text,
        "digits": clip.digits,
        "ends": list(clip.ends),
        "sample_rate": SAMPLE_RATE,
        "samples": len(samples),
        "duration_s": round(len(samples) / SAMPLE_RATE, 4),
        "parts": [
            {
                "prompt": part.prompt,
                "pause_after_ms": part.pause_after_ms,
                "end": end,
                "start_sample": start,
                "end_sample": stop,
                "start_s": round(start / SAMPLE_RATE, 4),
                "end_s": round(stop / SAMPLE_RATE, 4),
            }
            for part, end, (start, stop) in zip(clip.parts, clip.ends, spans, strict=True)
        ],
        "files": {ext: path.name for ext, path in paths.items() if ext != "json"},
        "stamp": stamp,
    }
    text = json.dumps(labels, ensure_ascii=False, indent=1) + "\n"
    _write_atomic(paths["json"], text.encode("utf-8"))


def assemble(
    outdir: Path,
    *,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    manifest: Manifest | None = None,
    sources: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, HumanClip]:
    """Make every clip of the manifest (or of the named ``sources``) in ``outdir``.

    Clips whose files carry their current stamp are kept as they are. Returns id -> clip.
    """
    manifest = manifest or load_manifest()
    wanted = set(sources) if sources is not None else set(manifest.sources)
    clips = [c for c in manifest.clips if c.source in wanted]
    outdir.mkdir(parents=True, exist_ok=True)
    stamps = {c.id: clip_stamp(c, manifest) for c in clips}
    stale = [c for c in clips if not _is_current(outdir, c.id, stamps[c.id])]
    if stale:
        with tempfile.TemporaryDirectory(prefix="human-speech-") as tmp:
            prompts = _load_prompts(stale, manifest, cache_dir, progress, Path(tmp))
            for clip in stale:
                _build(clip, prompts, outdir, stamps[clip.id])
                if progress:
                    progress(f"built {clip.id}")
    return {c.id: load_clip(outdir, c.id) for c in clips}
