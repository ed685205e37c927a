"""At start the app removes what a run that died left in Asterisk; odd answers from ARI
and leftovers already gone do not stop it (the ARI side is a fake, named so)."""

from __future__ import annotations

from typing import Any

import pytest

from ari_app.app import BRIDGE_PREFIX, _remove_leftovers
from ari_app.ari.client import AriError


class FakeRemover:
    def __init__(self, gone: set[str]) -> None:
        self.gone = gone
        self.removed: list[str] = []

    async def __call__(self, found: str) -> None:
        if found in self.gone:
            raise AriError("DELETE", f"/bridges/{found}", 404, "Bridge not found")
        self.removed.append(found)


async def test_ours_are_removed_and_odd_entries_or_gone_ones_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    listed: list[Any] = [
        {"id": "secretary-a1"}, {"id": "someone-elses"}, {"name": "no id"}, "garbage",
        {"id": 42}, {"id": "secretary-gone"}, {"id": "secretary-b2"},
    ]
    remove = FakeRemover(gone={"secretary-gone"})
    await _remove_leftovers("bridge", listed, BRIDGE_PREFIX, remove)
    assert remove.removed == ["secretary-a1", "secretary-b2"]
    assert "secretary-gone not removed" in caplog.text


@pytest.mark.parametrize("listed", [None, {"id": "secretary-a1"}, "[]", 7])
async def test_an_answer_that_is_not_a_list_removes_nothing(listed: Any) -> None:
    remove = FakeRemover(gone=set())
    await _remove_leftovers("bridge", listed, BRIDGE_PREFIX, remove)
    assert remove.removed == []
