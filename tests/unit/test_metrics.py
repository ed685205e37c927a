"""/metrics: what the app's figures become in the Prometheus exposition, the embedded server
that serves it (real uvicorn on a free port) and what `secretary doctor` makes of a scrape."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest

from ari_app.call.ending import EndReason
from ari_app.console.server import ConsoleServer
from ari_app.console.settings import ConsoleConfig, split_listen
from ari_app.doctor.live import judge_metrics
from ari_app.metrics import Metrics, read_samples
from ari_app.mind.mind import MindFigures
from ari_app.turn.timings import SpeechFigures, TurnTimings


def scrape(metrics: Metrics) -> dict[str, float]:
    return read_samples(metrics.render().decode())


def test_calls_are_counted_by_line_and_ending() -> None:
    metrics = Metrics()
    metrics.call_started("gsm")
    metrics.call_started("gsm")
    metrics.call_started("twilio")
    metrics.call_ended("gsm", EndReason.HANDED_BACK)
    samples = scrape(metrics)
    assert samples["secretary_calls_active{line=gsm}"] == 1
    assert samples["secretary_calls_active{line=twilio}"] == 1
    assert samples["secretary_calls_total{ended_by=handed_back,line=gsm}"] == 1


def test_a_reply_observes_the_figures_it_has_in_seconds() -> None:
    metrics = Metrics()
    timings = TurnTimings(endpoint_ms=250.0, stt_ms=80.0, reply_ms=None,
                          speech=SpeechFigures(tts_first_audio_ms=15.0, v2v_ms=640.0),
                          mind=MindFigures(unavailable=True))
    metrics.reply_spoken("gsm", timings)
    metrics.reply_spoken("gsm", TurnTimings())  # nothing measured: counted, not observed
    samples = scrape(metrics)
    assert samples["secretary_turns_total{line=gsm}"] == 2
    assert samples["secretary_voice_to_voice_seconds_count{line=gsm}"] == 1
    assert samples["secretary_voice_to_voice_seconds_sum{line=gsm}"] == pytest.approx(0.64)
    assert samples["secretary_voice_to_voice_seconds_bucket{le=0.7,line=gsm}"] == 1
    assert samples["secretary_voice_to_voice_seconds_bucket{le=0.6,line=gsm}"] == 0
    assert samples["secretary_stage_seconds_sum{stage=endpoint}"] == pytest.approx(0.25)
    assert "secretary_stage_seconds_count{stage=reply}" not in samples
    assert samples["secretary_engine_errors_total{engine=llm}"] == 1
    # what the console's dashboard reads without the text: the same samples, the same keys
    assert metrics.samples() == samples


def test_dropped_rtp_and_failed_writes_and_the_recogniser_queue() -> None:
    metrics = Metrics()
    metrics.rtp_dropped_by({"bad_version": 3, "wrong_ssrc": 0})
    metrics.record_failed("turn")
    queue = [4]
    metrics.watch_recogniser(lambda: float(queue[0]))
    samples = scrape(metrics)
    assert samples["secretary_rtp_dropped_packets_total{reason=bad_version}"] == 3
    assert "secretary_rtp_dropped_packets_total{reason=wrong_ssrc}" not in samples
    assert samples["secretary_record_write_failures_total{what=turn}"] == 1
    assert samples["secretary_recogniser_queue_depth"] == 4
    queue[0] = 0  # read at each scrape
    assert scrape(metrics)["secretary_recogniser_queue_depth"] == 0


def test_two_apps_in_one_process_count_apart() -> None:
    one, two = Metrics(), Metrics()
    one.call_started("x")
    assert "secretary_calls_active{line=x}" not in scrape(two)


@pytest.mark.parametrize(("value", "address"), [
    ("127.0.0.1:8080", ("127.0.0.1", 8080)), ("[::1]:0", ("::1", 0)),
    ("0.0.0.0:9464", ("0.0.0.0", 9464)),
])
def test_listen_addresses(value: str, address: tuple[str, int]) -> None:
    assert split_listen(value) == address


@pytest.mark.parametrize("value", ["8080", "localhost", ":8080", "host:99999", "host:http"])
def test_bad_listen_addresses_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        ConsoleConfig(listen=value)


async def test_the_console_serves_metrics_and_stops() -> None:
    metrics = Metrics()
    metrics.call_started("gsm")
    server = ConsoleServer(ConsoleConfig(listen="127.0.0.1:0"), metrics)
    await server.start()
    assert server.url is not None
    async with httpx.AsyncClient() as client:
        reply = await client.get(f"{server.url}/metrics")
    assert reply.status_code == 200
    assert read_samples(reply.text)["secretary_calls_active{line=gsm}"] == 1
    await server.close()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"{server.url}/metrics")


async def test_a_port_in_use_is_logged_and_the_app_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ConsoleServer(ConsoleConfig(listen=f"127.0.0.1:{port}"), Metrics())
        with caplog.at_level(logging.ERROR):
            await server.start()
    assert server.url is None
    assert "console.listen" in caplog.text and "in use" in caplog.text
    await server.close()


def test_doctor_judges_a_scrape() -> None:
    metrics = Metrics()
    metrics.call_started("gsm")
    healthy = judge_metrics(scrape(metrics), "http://x/metrics")
    assert all(check.ok for check in healthy)
    assert "1 call(s) in progress" in healthy[0].detail
    metrics.record_failed("close")
    metrics.draining.set(1)
    troubled = {check.name: check for check in judge_metrics(scrape(metrics), "u")}
    assert troubled["secretary run: call records written"].status == "fail"
    assert troubled["secretary run: stopping"].status == "warn"
