"""The one check result every health check in the project returns (`secretary doctor`'s
configuration, ARI, PBX and model checks, `scripts/setup-models`, `python -m modem diagnose`),
and the plain-words report of a list of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# ok; warn: works, but something is missing or off (exit 0); fail: calls will suffer (exit 1)
Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""  # what a person does about it (shown unless the status is ok)

    @classmethod
    def of(cls, name: str, ok: bool, detail: str, fix: str = "") -> Check:
        return cls(name, "ok" if ok else "fail", detail, fix)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def exit_code(checks: list[Check]) -> int:
    """0 when nothing failed (warnings allowed), 1 when a check failed."""
    return 1 if any(c.status == "fail" for c in checks) else 0
