"""The human announcers' clips of the labelled speech set (testkit/human_speech.py), for
unit tests that check a rule on real speech: assembled into a test's own folder from the
packages set-up fetched, or the test is skipped, saying why."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit import human_speech


def recorded_clips(outdir: Path) -> dict[str, human_speech.HumanClip]:
    """Every clip of the set's recordings, by id (skips where they cannot be made)."""
    if not human_speech.MANIFEST_PATH.is_file():
        pytest.skip(f"{human_speech.MANIFEST_PATH} (the human speech clips) is not there")
    try:
        manifest = human_speech.load_manifest()
        recordings = [s.name for s in manifest.sources.values() if s.role == "recordings"]
        return human_speech.assemble(outdir, manifest=manifest, sources=recordings)
    except human_speech.HumanSpeechError as exc:
        pytest.skip(f"the human speech clips cannot be assembled here: {exc}")
