"""The HTTP side of `secretary run`: `/metrics` now; the operator console grows here."""
