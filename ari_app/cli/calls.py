"""A readable transcript of one stored call (a dict from `CallStore.get_call`), and of
the messages callers left (`CallStore.messages`)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ari_app.call.ending import EndReason

_WHO = {"caller": "Caller", "secretary": "Secretary"}
# Latency figures shown in this order first; any others follow alphabetically.
_TIMING_ORDER = ("endpoint", "stt", "reply", "tts")
# Session keys shown under a shorter name.
_ALIASES = {"tts_first_audio": "tts", "tts_first": "tts"}
# 0/1 markers rather than durations.
_FLAGS = (
    "interrupted", "stt_speculative", "stt_streaming", "dtmf", "llm_filler", "llm_unavailable",
    "transfer_busy", "transfer_no_answer", "transfer_declined", "transfer_failed",
)  # fmt: skip
# Engineering figures kept in the record for the benchmarks, not shown to a receptionist.
_HIDDEN = ("send_jitter_p99_ms", "send_jitter_max_ms", "tts_engine_ms", "bargein_detect_ms")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _ending(ended_by: Any) -> str:
    try:
        return EndReason.parse(str(ended_by)).description
    except ValueError:  # written by a newer version
        return str(ended_by or "unknown")


def _local_time(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(ts)).strip()


def _seconds(key: str, value: float) -> tuple[str, float]:
    """("stt_ms", 400.0) -> ("stt", 0.4); ("stt_s", 0.4) and ("stt", 0.4) -> ("stt", 0.4)."""
    if key.endswith("_ms"):
        key, value = key[:-3], value / 1000
    elif key.endswith("_s"):
        key = key[:-2]
    return _ALIASES.get(key, key), value


def format_timings(timings: Mapping[str, Any]) -> str:
    """`v2v 1.2 s (endpoint 0.6, stt 0.4, reply 0.0, tts 0.3)` in seconds.

    Keys ending in `_ms` are milliseconds, in `_s` or bare seconds; `interrupted` is a flag.
    """
    values: dict[str, float] = {}
    flags: list[str] = []
    for key, raw in timings.items():
        number = _number(raw)
        if number is None or key in _HIDDEN:
            continue
        if key in _FLAGS:
            if number:
                flags.append(key)
            continue
        name, seconds = _seconds(key, number)
        values[name] = seconds
    rest_keys = [k for k in _TIMING_ORDER if k in values]
    rest_keys += sorted(k for k in values if k not in _TIMING_ORDER and k != "v2v")
    rest = ", ".join(f"{k} {values[k]:.1f}" for k in rest_keys)
    if "v2v" in values:
        text = f"v2v {values['v2v']:.1f} s" + (f" ({rest})" if rest else "")
    else:
        text = f"{rest} s" if rest else ""
    return ", ".join(part for part in (text, *flags) if part)


def format_call(call: Mapping[str, Any]) -> str:
    """Header (id, line, caller, start, duration, ending), the turns, the recordings."""
    started = _number(call.get("started_at"))
    ended = _number(call.get("ended_at"))
    lines = [f"Call {call.get('call_id', '?')}"]
    lines.append(f"  Line:      {call.get('line') or '-'}")
    caller_id = call.get("caller_id") or "unknown"
    lines.append(f"  Caller:    {caller_id}")
    if call.get("language"):
        lines.append(f"  Language:  {call['language']}")
    lines.append(f"  Started:   {_local_time(started) if started is not None else '-'}")
    if ended is not None and started is not None:
        lines.append(f"  Duration:  {ended - started:.1f} s")
    ended_by = call.get("ended_by")
    if ended is None:
        ending = "still in progress (or not closed)"
    else:
        ending = _ending(ended_by)
    if call.get("error"):
        ending += f": {call['error']}"
    lines.append(f"  Ended:     {ending}")
    if call.get("transferred_to"):
        lines.append(f"  Put through to: {call['transferred_to']}")
    lines.append("")

    turns = list(call.get("turns") or [])
    if not turns:
        lines.append("  (no turns)")
    for turn in turns:
        t0 = _number(turn.get("started_at"))
        offset = f"+{t0 - started:.1f}s" if t0 is not None and started is not None else "+?s"
        who = _WHO.get(str(turn.get("who")), str(turn.get("who")))
        lines.append(f"[{offset}] {who}: {turn.get('text', '')}")
        timings = turn.get("timings")
        if isinstance(timings, Mapping):
            figures = format_timings(timings)
            if figures:
                lines.append(f"          {figures}")

    caller_wav, secretary_wav = call.get("caller_wav"), call.get("secretary_wav")
    lines.append("")
    if caller_wav or secretary_wav:
        lines.append("Recordings:")
        lines.append(f"  caller:    {caller_wav or '-'}")
        lines.append(f"  secretary: {secretary_wav or '-'}")
    else:
        lines.append("Recordings: none")
    return "\n".join(lines)


def format_message(message: Mapping[str, Any]) -> str:
    """One message as a receptionist reads it: when, who, number, what, and whether the
    staff were told."""
    created = _number(message.get("created_at"))
    urgent = " URGENT" if message.get("urgency") == "urgent" else ""
    if message.get("confirmed") is False:  # the call ended before the caller confirmed it
        urgent += " NOT CONFIRMED"
    lines = [f"Message {message.get('id', '?')}{urgent}, "
             f"{_local_time(created) if created is not None else '-'}"]
    lines.append(f"  From:      {message.get('name') or 'name not given'}")
    number = message.get("callback_number") or message.get("caller_id") or "-"
    lines.append(f"  Call back: {number}")
    lines.append(f"  Message:   {message.get('reason') or '-'}")
    notified = message.get("notified") or {}
    if isinstance(notified, Mapping) and notified:
        told = ", ".join(f"{k} {v}" for k, v in sorted(notified.items()))
        lines.append(f"  Sent to:   {told}")
    if message.get("call_id"):
        lines.append(f"  Call:      {message['call_id']}")
    return "\n".join(lines)
