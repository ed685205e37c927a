"""What `secretary run` tells Prometheus (`/metrics` on `console.listen`): calls in progress
and ended (by line and how they ended), turns, voice-to-voice and per-stage latency, the
recogniser's queue, engine errors, RTP dropped and record writes that failed.

One `Metrics` object per app, with its own registry (not prometheus-client's global one),
so that tests and a second app in the same process start from zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from ari_app.call.ending import EndReason
from ari_app.turn.timings import TurnTimings

# Seconds: voice-to-voice is worth resolving between 0.3 and 2 s (the targets are 0.5/0.8 s).
LATENCY_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0, 5.0)
STAGES = ("endpoint", "stt", "reply", "tts_first_audio", "stt_remote")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.calls_active = Gauge(
            "secretary_calls_active", "Calls in progress", ["line"], registry=r)
        self.calls = Counter(
            "secretary_calls", "Calls ended, by line and how they ended", ["line", "ended_by"],
            registry=r)
        self.turns = Counter(
            "secretary_turns", "Caller turns answered", ["line"], registry=r)
        self.voice_to_voice = Histogram(
            "secretary_voice_to_voice_seconds",
            "End of the caller's speech to the reply's first audio sent", ["line"],
            buckets=LATENCY_BUCKETS, registry=r)
        self.stage = Histogram(
            "secretary_stage_seconds",
            "One stage of a turn: endpoint (speech end to turn over), stt, reply (the mind), "
            "tts_first_audio, stt_remote (the inference server's answer, stt.remote)",
            ["stage"], buckets=LATENCY_BUCKETS, registry=r)
        self.engine_errors = Counter(
            "secretary_engine_errors", "Failures of a speech or language engine", ["engine"],
            registry=r)
        self.rtp_dropped = Counter(
            "secretary_rtp_dropped_packets", "Incoming RTP packets dropped, by reason",
            ["reason"], registry=r)
        self.record_failures = Counter(
            "secretary_record_write_failures", "Call record writes that failed", ["what"],
            registry=r)
        self.hold_cues = Counter(
            "secretary_hold_cues", "Hold cues said while a turn's words were slow to come "
            "(turn.hold_cue_ms), by line", ["line"], registry=r)
        self.recogniser_queue = Gauge(
            "secretary_recogniser_queue_depth",
            "Transcriptions waiting for or running in the recogniser", registry=r)
        self.calls_refused = Counter(
            "secretary_calls_refused", "New calls sent to the line's fallback because the "
            "box was saturated, by reason", ["reason"], registry=r)
        self.records_spooled = Gauge(
            "secretary_record_writes_spooled",
            "Record writes the database refused, kept to be written later", registry=r)
        self.draining = Gauge(
            "secretary_draining", "1 while the app hands its calls back to stop", registry=r)

    # --- calls -------------------------------------------------------------------------
    def call_started(self, line: str) -> None:
        self.calls_active.labels(line).inc()

    def call_ended(self, line: str, reason: EndReason) -> None:
        self.calls_active.labels(line).dec()
        self.calls.labels(line, reason.value).inc()

    def reply_spoken(self, line: str, timings: TurnTimings) -> None:
        """A caller's turn answered: its latency figures (those measured)."""
        self.turns.labels(line).inc()
        if timings.mind.unavailable:
            self.engine_errors.labels("llm").inc()
        if timings.speech.v2v_ms is not None:
            self.voice_to_voice.labels(line).observe(timings.speech.v2v_ms / 1000)
        stages = {"endpoint": timings.endpoint_ms, "stt": timings.stt_ms,
                  "reply": timings.reply_ms, "tts_first_audio": timings.speech.tts_first_audio_ms,
                  "stt_remote": timings.stt_remote_ms}
        for stage, ms in stages.items():
            if ms is not None:
                self.stage.labels(stage).observe(ms / 1000)

    def rtp_dropped_by(self, dropped: Mapping[str, int]) -> None:
        for reason, count in dropped.items():
            if count > 0:
                self.rtp_dropped.labels(reason).inc(count)

    def record_failed(self, what: str) -> None:
        self.record_failures.labels(what).inc()

    def hold_cue_said(self, line: str) -> None:
        self.hold_cues.labels(line).inc()

    def engine_failed(self, engine: str) -> None:
        self.engine_errors.labels(engine).inc()

    def watch_recogniser(self, depth: Callable[[], float]) -> None:
        """The queue depth is read from the recogniser at each scrape."""
        self.recogniser_queue.set_function(depth)

    def render(self) -> bytes:
        """The Prometheus text exposition of everything above."""
        return generate_latest(self.registry)

    def samples(self) -> dict[str, float]:
        """Everything above now, keyed as `read_samples` keys a scrape (no text between)."""
        return _keyed(self.registry.collect())


def read_samples(text: str) -> dict[str, float]:
    """A scrape as {"name{label=value,...}": value}, labels sorted (what `secretary doctor`
    and the tests read)."""
    return _keyed(text_string_to_metric_families(text))


def _keyed(families: Iterable[Metric]) -> dict[str, float]:
    samples: dict[str, float] = {}
    for family in families:
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples
