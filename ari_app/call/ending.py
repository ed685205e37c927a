"""How a call ended: one type for the session that ends it, its record and the store, so
that no ending can be refused on the way (a string the store did not know once left a
record open)."""

from __future__ import annotations

from enum import StrEnum


class EndReason(StrEnum):
    CALLER_HANGUP = "caller_hangup"
    APP_HANGUP = "app_hangup"  # the secretary said goodbye
    OPERATOR_HANGUP = "operator_hangup"  # a console operator hung up the call
    TRANSFERRED = "transferred"  # put through to staff (blind, or bridged until the end)
    HANDED_BACK = "handed_back"  # the app was stopping: the caller went to the line's fallback
    APP_SHUTDOWN = "app_shutdown"  # the app was stopped at once, mid-call
    MEDIA_LOST = "media_lost"  # our audio leg went away under a live call
    LOST_ON_RECONNECT = "lost_on_reconnect"  # gone while Asterisk was out of reach
    APP_CRASHED = "app_crashed"  # left open by a killed process, closed at the next start
    APP_RESTARTED = "app_restarted"  # what earlier versions called app_crashed
    ERROR = "error"

    @property
    def description(self) -> str:
        """The ending in words, for a receptionist reading the calls."""
        return _DESCRIPTIONS[self]

    @classmethod
    def parse(cls, value: str) -> EndReason:
        """The reason a stored or given string names; ValueError naming the known ones."""
        try:
            return cls(value)
        except ValueError:
            known = ", ".join(reason.value for reason in cls)
            raise ValueError(f"ended_by must be one of {known}; got {value!r}") from None


_DESCRIPTIONS = {
    EndReason.CALLER_HANGUP: "the caller hung up",
    EndReason.APP_HANGUP: "the secretary hung up",
    EndReason.OPERATOR_HANGUP: "an operator hung up from the console",
    EndReason.TRANSFERRED: "put through to staff",
    EndReason.HANDED_BACK: "handed to staff: the secretary was restarting",
    EndReason.APP_SHUTDOWN: "cut off: the secretary was stopped at once",
    EndReason.MEDIA_LOST: "the audio connection was lost",
    EndReason.LOST_ON_RECONNECT: "lost while reconnecting to Asterisk",
    EndReason.APP_CRASHED: "the secretary stopped during the call (crash or kill)",
    EndReason.APP_RESTARTED: "the app restarted during the call",
    EndReason.ERROR: "an error",
}
