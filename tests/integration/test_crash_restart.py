"""After a crash the secretary can start again at once (its own module: no other app runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from testkit.local import LocalApp, write_config

pytestmark = pytest.mark.integration


def test_starts_again_after_a_crash(asterisk_testbed: Any, tmp_path: Path) -> None:
    """A secretary killed with SIGKILL leaves its lease (and Asterisk keeps listing the
    app): the next start must see that the holder is dead and take over at once."""
    first = LocalApp(write_config(tmp_path), tmp_path / "first.log").start()
    assert first.proc is not None
    first.proc.kill()
    first.proc.wait()
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    second = LocalApp(write_config(second_dir), second_dir / "second.log").start()
    try:
        assert "ready" in second.output
    finally:
        assert second.stop() == 0
