"""The labelled human speech set (tests/data/human_speech, testkit/human_speech.py).

The manifest is checked on its own; its prompts against the transcripts packages, and the
assembled clips against the recordings, where the Debian packages can be had (from the cache
in var/cache/debs or with apt-get download); otherwise those tests are skipped with the reason.
"""

from __future__ import annotations

import copy
import json
import shutil
import wave
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ari_app.media.codecs import alaw_decode, ulaw_decode
from testkit import human_speech as hs

RATE = 8000
MARGIN = 480  # 60 ms
SILENCE_DBFS = -55.0  # what may be cut from a recording stays below this


@pytest.fixture(scope="module")
def manifest() -> hs.Manifest:
    return hs.load_manifest()


def human_clips(manifest: hs.Manifest) -> list[hs.ClipSpec]:
    return [c for c in manifest.clips if c.source != hs.SYNTHETIC_SOURCE]


def deb_sources(manifest: hs.Manifest) -> list[hs.Source]:
    return [s for s in manifest.sources.values() if s.is_deb]


def letters(text: str) -> str:
    """Only the letters and digits, lower case (so "mail box" and "mailbox" compare equal)."""
    return "".join(hs.normalise_words(text))


# --- the manifest on its own -----------------------------------------------------------------


def test_manifest_loads_with_both_languages_and_every_kind(manifest: hs.Manifest) -> None:
    for language in hs.LANGUAGES:
        clips = [c for c in human_clips(manifest) if c.language == language]
        assert 25 <= len(clips) <= 45, (language, len(clips))
        assert {c.kind for c in clips} == set(hs.KINDS), language
        assert all(c.source == f"asterisk-core-sounds-{language}-wav" for c in clips)
    for source in deb_sources(manifest):
        assert source.version == "1.6.1-1"
        assert source.sha256 is not None and len(source.sha256) == 64
        assert source.licence.startswith("CC-BY")


def test_every_clip_is_labelled_consistently(manifest: hs.Manifest) -> None:
    for clip in manifest.clips:
        assert len(clip.ends) == len(clip.parts), clip.id
        assert clip.ends[-1] == "complete", clip.id
        assert set(clip.ends[:-1]) <= {"incomplete"}, clip.id
        assert clip.parts[-1].pause_after_ms == 0, clip.id
        assert all(p.pause_after_ms > 0 for p in clip.parts[:-1]), clip.id
        assert clip.id.startswith(f"{clip.language}_"), clip.id
        assert (clip.digits is not None) == (clip.kind in hs.NUMBER_KINDS), clip.id


def test_pauses_fit_each_kind(manifest: hs.Manifest) -> None:
    for clip in human_clips(manifest):
        pauses = [p.pause_after_ms for p in clip.parts[:-1]]
        if clip.kind == "number_digits":
            assert len(pauses) >= 3 and all(150 <= p <= 300 for p in pauses), clip.id
        elif clip.kind == "number_groups":
            between = [p for p in pauses if p >= 800]
            assert len(between) >= 2, clip.id
            assert all(p <= 2500 for p in between), clip.id
            assert all(p <= 300 for p in pauses if p < 800), clip.id  # inside a group
        elif clip.kind == "question_pause":
            assert len(pauses) == 1 and 400 <= pauses[0] <= 900, clip.id


_TENS = {20, 30, 40, 50, 60, 70, 80, 90}


def spoken_digits(prompts: list[str]) -> str:
    """The digits a listener writes down for digits/* prompts said in a row.

    "сто"/"hundred" opens a three-digit group, a tens word takes a following unit (forty five
    -> 45), a teen is two digits, a unit (or "oh") one digit.
    """
    values: list[int | str] = []
    for prompt in prompts:
        assert prompt.startswith("digits/"), prompt
        name = prompt.removeprefix("digits/")
        values.append("hundred" if name == "hundred" else 0 if name == "oh" else int(name))
    out: list[str] = []
    i = 0

    def take_tens_and_unit(value: int) -> int:
        nonlocal i
        if i < len(values) and isinstance(values[i], int):
            nxt = values[i]
            assert isinstance(nxt, int)
            if nxt in _TENS or 10 <= nxt <= 19:
                value += nxt
                i += 1
                if nxt in _TENS and i < len(values) and values[i] in range(1, 10):
                    value += int(values[i])
                    i += 1
            elif 1 <= nxt <= 9 and value % 100 == 0 and value >= 100:
                value += nxt
                i += 1
        return value

    while i < len(values):
        value = values[i]
        i += 1
        if value == "hundred":
            out.append(f"{take_tens_and_unit(100):03d}")
        elif isinstance(value, int) and value in _TENS:
            if i < len(values) and values[i] in range(1, 10):
                value += int(values[i])
                i += 1
            out.append(f"{value:02d}")
        elif isinstance(value, int) and 0 <= value <= 19:
            out.append(str(value))
        else:
            raise AssertionError(f"not a digit prompt: {value!r}")
    return "".join(out)


def test_spoken_digits_reader() -> None:
    assert spoken_digits(["digits/8", "digits/9", "digits/1", "digits/6"]) == "8916"
    assert spoken_digits(["digits/hundred", "digits/20", "digits/3"]) == "123"
    assert spoken_digits(["digits/40", "digits/5", "digits/60", "digits/7"]) == "4567"
    assert spoken_digits(["digits/9", "digits/16", "digits/oh", "digits/12"]) == "916012"
    assert spoken_digits(["digits/20", "digits/80"]) == "2080"


def test_number_clips_say_their_digits(manifest: hs.Manifest) -> None:
    numbers = [c for c in human_clips(manifest) if c.kind in hs.NUMBER_KINDS]
    assert len(numbers) >= 8
    for clip in numbers:
        assert spoken_digits([p.prompt for p in clip.parts]) == clip.digits, clip.id
        if clip.kind == "number_digits":
            assert len(clip.parts) == len(clip.digits or ""), clip.id


def test_synthetic_clips_are_the_caller_lines(manifest: hs.Manifest) -> None:
    from testkit.runner import CALLER_LINES

    synthetic = [c for c in manifest.clips if c.source == hs.SYNTHETIC_SOURCE]
    assert synthetic
    for clip in synthetic:
        lines = [CALLER_LINES[p.prompt] for p in clip.parts]
        assert letters(clip.text) == letters(" ".join(text for _, text in lines)), clip.id
        voices = {voice for voice, _ in lines}
        assert voices == {"aleksandr" if clip.language == "ru" else "slt"}, clip.id


def _write(tmp_path: Path, raw: dict[str, Any]) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["ends"].pop(), "ends"),
        (lambda c: c["ends"].__setitem__(-1, "incomplete"), "complete"),
        (lambda c: c["parts"][-1].__setitem__("pause_after_ms", 300), "last part"),
        (lambda c: c["parts"][0].__setitem__("pause_after_ms", 10), "outside"),
        (lambda c: c.__setitem__("kind", "monologue"), "kind"),
        (lambda c: c.__setitem__("digits", "12"), "digits"),
        (lambda c: c.__setitem__("language", "de"), "language"),
        (lambda c: c.__setitem__("source", "nowhere"), "source"),
        (lambda c: c["parts"][0].__setitem__("prompt", "../etc/passwd"), "prompt"),
    ],
)
def test_broken_manifests_are_rejected(
    tmp_path: Path, manifest: hs.Manifest, change: Any, message: str
) -> None:
    raw = json.loads(manifest.path.read_text(encoding="utf-8"))
    clip = next(c for c in raw["clips"] if c["id"] == "ru_thanks_goodbye")
    change(clip)
    with pytest.raises(hs.HumanSpeechError, match=message):
        hs.load_manifest(_write(tmp_path, raw))


def test_duplicate_ids_are_rejected(tmp_path: Path, manifest: hs.Manifest) -> None:
    raw = json.loads(manifest.path.read_text(encoding="utf-8"))
    raw["clips"].append(copy.deepcopy(raw["clips"][0]))
    with pytest.raises(hs.HumanSpeechError, match="twice"):
        hs.load_manifest(_write(tmp_path, raw))


# --- trimming and joining, on made-up signals ------------------------------------------------


def _tone(seconds: float, dbfs: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    amplitude = 32768 * 10 ** (dbfs / 20) * np.sqrt(2)  # RMS at dbfs
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.int16)


def test_trim_cuts_only_what_stays_below_minus_55_dbfs() -> None:
    rng = np.random.default_rng(1)
    floor = (rng.standard_normal(4000) * 32768 * 10 ** (-65 / 20)).astype(np.int16)
    soft = _tone(0.1, -50.0)  # a soft onset: above the threshold, far below the speech
    loud = _tone(0.3, -12.0)
    x = np.concatenate([floor, soft, loud, floor])
    start, end = hs.speech_bounds(x)
    assert start == 4000 and end == 4000 + len(soft) + len(loud)
    seg = hs.trim(x)
    assert len(seg) == len(soft) + len(loud) + 2 * MARGIN
    assert np.array_equal(seg[MARGIN : MARGIN + len(soft)], soft)  # the soft onset is kept
    assert np.array_equal(seg[:MARGIN], floor[-MARGIN:])  # the margin is the recording's


def test_trim_pads_the_margin_where_the_recording_has_none() -> None:
    loud = _tone(0.2, -10.0)
    seg = hs.trim(loud)
    assert len(seg) == len(loud) + 2 * MARGIN
    assert not seg[:MARGIN].any() and not seg[-MARGIN:].any()


def test_trim_refuses_a_silent_prompt() -> None:
    with pytest.raises(hs.HumanSpeechError, match="no sound"):
        hs.speech_bounds(np.zeros(800, np.int16))


def test_compose_puts_the_pauses_between_the_speech() -> None:
    a, b, c = (hs.trim(_tone(s, -10.0)) for s in (0.2, 0.3, 0.1))
    samples, spans = hs.compose([a, b, c], [60, 1000, 0])
    assert spans[0] == (MARGIN, MARGIN + 1600)
    assert spans[1][0] - spans[0][1] == 60 * 8
    assert spans[2][0] - spans[1][1] == 1000 * 8
    assert len(samples) == spans[2][1] + MARGIN
    assert not samples[spans[1][1] + MARGIN : spans[2][0] - MARGIN].any()


# --- against the Debian packages -------------------------------------------------------------


@pytest.fixture(scope="module")
def debs(manifest: hs.Manifest) -> dict[str, Path]:
    """The packages, from var/cache/debs or apt-get download; skipped if neither works."""
    try:
        return {s.name: hs.fetch_deb(s) for s in deb_sources(manifest)}
    except hs.HumanSpeechError as exc:
        pytest.skip(f"the Debian packages cannot be had here: {exc}")


@pytest.fixture(scope="module")
def transcripts(manifest: hs.Manifest, debs: dict[str, Path]) -> dict[str, dict[str, str]]:
    return {lang: hs.load_transcripts(lang, manifest=manifest) for lang in hs.LANGUAGES}


def test_prompts_exist_in_the_transcripts_and_the_text_is_theirs(
    manifest: hs.Manifest, transcripts: dict[str, dict[str, str]]
) -> None:
    assert len(transcripts["ru"]) > 500 and len(transcripts["en"]) > 500
    for clip in human_clips(manifest):
        said = transcripts[clip.language]
        missing = [p.prompt for p in clip.parts if p.prompt not in said]
        assert not missing, (clip.id, missing)
        joined = " ".join(said[p.prompt] for p in clip.parts)
        assert letters(clip.text) == letters(joined), (clip.id, clip.text, joined)


@pytest.fixture(scope="module")
def assembled(
    manifest: hs.Manifest, debs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, hs.HumanClip]:
    sources = [s.name for s in manifest.sources.values() if s.role == "recordings"]
    if shutil.which("RHVoice-test") and shutil.which("sox"):
        sources.append(hs.SYNTHETIC_SOURCE)
    return hs.assemble(tmp_path_factory.mktemp("human-speech"), sources=sources)


@pytest.fixture(scope="module")
def raw_prompts(manifest: hs.Manifest, debs: dict[str, Path]) -> dict[tuple[str, str], np.ndarray]:
    """The prompts as recorded, read here straight from the packages."""
    out = {}
    for source in manifest.sources.values():
        if source.role != "recordings":
            continue
        prompts = {p.prompt for c in manifest.clips if c.source == source.name for p in c.parts}
        members = {p: f"{source.sounds_dir}/{p}.wav" for p in prompts}
        data = hs.read_deb_members(debs[source.name], members.values())
        for prompt, member in members.items():
            out[source.name, prompt] = hs.read_wav_8k(data[member], member)
    return out


def _read_wav(path: Path) -> tuple[tuple[int, int, int], np.ndarray]:
    with wave.open(str(path)) as w:
        fmt = (w.getframerate(), w.getnchannels(), w.getsampwidth())
        return fmt, np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def test_assembled_clips_are_8k_mono_and_as_long_as_parts_and_pauses(
    manifest: hs.Manifest, assembled: dict[str, hs.HumanClip]
) -> None:
    assert {c.id for c in human_clips(manifest)} <= assembled.keys()
    for clip in assembled.values():
        fmt, x = _read_wav(clip.wav)
        assert fmt == (8000, 1, 2), clip.id
        assert len(x) == clip.samples, clip.id
        assert clip.duration_s <= 30.0, clip.id
        speech = sum(p.end_sample - p.start_sample for p in clip.parts)
        pauses = sum(p.pause_after_ms for p in clip.parts) * RATE // 1000
        assert abs(len(x) - (speech + pauses + 2 * MARGIN)) <= 0.060 * RATE, clip.id
        assert [p.end for p in clip.parts] == list(clip.ends), clip.id
        for ext, path in (("ulaw", clip.ulaw), ("alaw", clip.alaw)):
            data = path.read_bytes()
            assert len(data) == len(x), (clip.id, ext)
            decoded = np.frombuffer((ulaw_decode if ext == "ulaw" else alaw_decode)(data), "<i2")
            assert np.max(np.abs(decoded.astype(np.int32) - x)) <= 1100, (clip.id, ext)


def test_assembled_pauses_are_where_the_labels_say(assembled: dict[str, hs.HumanClip]) -> None:
    for clip in assembled.values():
        _, x = _read_wav(clip.wav)
        assert clip.parts[0].start_sample == MARGIN, clip.id
        assert clip.parts[-1].end_sample == len(x) - MARGIN, clip.id
        for part, nxt in zip(clip.parts, clip.parts[1:], strict=False):
            assert nxt.start_sample - part.end_sample == part.pause_after_ms * RATE // 1000
            gap = x[part.end_sample : nxt.start_sample]
            assert np.all(hs.frame_levels_dbfs(gap) < SILENCE_DBFS), (clip.id, part.prompt)
            assert not x[part.end_sample + MARGIN : nxt.start_sample - MARGIN].any(), clip.id
        for part in clip.parts:
            levels = hs.frame_levels_dbfs(x[part.start_sample : part.end_sample])
            assert levels[0] >= SILENCE_DBFS and levels.max() > -30.0, (clip.id, part.prompt)


def test_only_silence_was_cut_from_the_recordings(
    manifest: hs.Manifest,
    assembled: dict[str, hs.HumanClip],
    raw_prompts: dict[tuple[str, str], np.ndarray],
) -> None:
    """Each part's speech is its recording verbatim; what was cut stayed below -55 dBFS."""
    for spec in human_clips(manifest):
        clip = assembled[spec.id]
        _, x = _read_wav(clip.wav)
        for part in clip.parts:
            raw = raw_prompts[spec.source, part.prompt]
            speech = x[part.start_sample : part.end_sample]
            head = np.lib.stride_tricks.sliding_window_view(raw, 32)
            at = np.nonzero(np.all(head == speech[:32], axis=1))[0]
            assert len(at) >= 1, (spec.id, part.prompt)
            k = int(at[0])
            assert np.array_equal(raw[k : k + len(speech)], speech), (spec.id, part.prompt)
            cut = [raw[: max(0, k - MARGIN)], raw[k + len(speech) + MARGIN :]]
            for piece in cut:
                if len(piece):
                    assert np.all(hs.frame_levels_dbfs(piece) < SILENCE_DBFS), (
                        spec.id, part.prompt
                    )


def test_assemble_is_idempotent(
    manifest: hs.Manifest, assembled: dict[str, hs.HumanClip]
) -> None:
    outdir = next(iter(assembled.values())).wav.parent
    before = {p.name: p.stat().st_mtime_ns for p in outdir.iterdir()}
    again = hs.assemble(outdir, sources=sorted({c.source for c in assembled.values()}))
    assert again == assembled
    assert {p.name: p.stat().st_mtime_ns for p in outdir.iterdir()} == before


def test_assembled_set_counts(assembled: dict[str, hs.HumanClip]) -> None:
    counts = Counter((c.language, c.kind) for c in assembled.values() if c.human)
    for language in hs.LANGUAGES:
        for kind in hs.KINDS:
            assert counts[language, kind] >= 2, (language, kind)
