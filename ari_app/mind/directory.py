"""The staff directory as a persona file writes it: staff members, departments and the
transfer rules, validated with the rest of the persona (mind/persona.py). Whom a caller asks
for, and putting them through, is mind/staff.py."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ari_app.mind.calendar import Week
from ari_app.mind.texts import TextLists, Texts

TransferMode = Literal["blind", "attended"]


class StaffMember(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    name: Texts
    role: Texts = Field(default_factory=dict)
    department: str | None = None  # a key of `departments`
    extension: str | None = Field(default=None, pattern=r"^[0-9*#]+$")
    number: str | None = Field(default=None, repr=False)  # private: never told to callers
    hours: Week | None = None  # default: the department's, else the company's
    language: str | None = None  # for the announcement; default: the persona's first
    transfer: TransferMode | None = None  # default: transfer.mode
    keywords: TextLists = Field(default_factory=dict)  # other ways to ask for them


class Department(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: Texts
    target: str  # dialplan target: a queue or extension
    keywords: TextLists = Field(default_factory=dict)
    hours: Week | None = None
    language: str | None = None
    transfer: TransferMode | None = None


class TransferRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    enabled: bool = True
    mode: TransferMode = "attended"
    # staff ids and department keys callers may be put through to; absent: everyone
    allow: list[str] | None = None
    # out of their hours: offer to take a message, or only say when they are in
    off_hours: Literal["take_message", "refuse"] = "take_message"
    # who gets the questions the secretary cannot answer (a staff id or department key)
    general: str | None = None
    # attended transfers: ask "who shall I say is calling?" first, for the announcement
    ask_name: bool = True
