"""The language model on a real call: the first provider is dead (a refused port), the
second is a real llama.cpp server with the packaged SmolLM2. The caller hears the filler
("Одну секунду...") instead of dead air, then the model's words, spoken sentence by sentence
as they stream; the turn's record carries the model's timings. SmolLM2's Russian is poor:
the test checks the path and the timings, not the wording."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from callkit import answer, dial, normalise, wait_asterisk_clean, wait_call_ended
from conftest import AsteriskTestbed, RunningApp, run_secretary

from ari_app.llm.local_server import LocalLlamaServer, free_port
from testkit.local import SHORT_GREETING

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def secretary_app(
    asterisk_testbed: AsteriskTestbed,
    tmp_path_factory: pytest.TempPathFactory,
    llama: LocalLlamaServer,
) -> Iterator[RunningApp]:
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    overrides = {
        "llm": {
            # the warm server reads the call's new tokens in ~1 s: the filler must come first
            "filler_after_s": 0.3,
            "providers": [
                {"kind": "openai", "name": "dead", "base_url": dead, "model": "x"},
                {
                    "kind": "openai",
                    "name": "smollm2",
                    "base_url": llama.base_url,
                    "model": "local",
                    "first_token_timeout_s": 60,
                    "total_timeout_s": 90,
                    "max_tokens": 40,
                },
            ],
        }
    }
    for running in run_secretary(tmp_path_factory, "secretary-llm", overrides, SHORT_GREETING):
        # at start the app sends each line's system prompt to the local server once
        # (llm/warmup.py); the test waits for that (a turn meanwhile would queue behind it)
        deadline = time.monotonic() + 180
        while WARMED_RU not in running.app.output and time.monotonic() < deadline:
            time.sleep(0.5)
        yield running


WARMED_RU = "LLM warm-up smollm2/default:ru: prompt processed"
LLM_REPLY_QUIET_MS = 5000


def test_dead_provider_filler_then_the_local_model_speaks(
    secretary_app: RunningApp,
    llama: LocalLlamaServer,
    caller_audio: dict[str, Path],
    transcribe: Any,
    tmp_path: Path,
) -> None:
    result = dial(
        exten="100",
        utterances=[
            answer(caller_audio["ru_ask_llm"]),
            # the model's answer comes sentence by sentence after the filler, on 2 cores
            answer(caller_audio["ru_bye"], quiet_ms=LLM_REPLY_QUIET_MS),
        ],
        workdir=tmp_path,
        hangup="remote",
        hangup_wait_ms=20000,
        timeout_s=120,
    )
    assert result.sipp_rc == 0, result.sipp_log
    calls = wait_call_ended(secretary_app.db, secretary_app.calls_before + 1)
    secretary_app.calls_before = len(calls)
    turns = calls[-1]["turns"]
    answers = [t for t in turns if t["who"] == "secretary" and "llm_first_event_ms" in t["timings"]]
    assert answers, turns
    timings = json.loads(answers[0]["timings"])
    assert timings.get("llm_filler") == 1.0, timings  # SmolLM2 reads the prompt for > 0.3 s
    assert timings["llm_first_event_ms"] < 1500, timings  # the filler, not dead air
    assert timings.get("llm_first_token_ms", 0) > timings["llm_first_event_ms"], timings
    assert answers[0]["text"].startswith("Одну секунду"), answers[0]["text"]
    assert len(answers[0]["text"]) > len("Одну секунду..."), answers[0]["text"]  # model's words
    assert "llm_unavailable" not in timings
    # the app warmed the server at start: the dead provider's warm-up failed and was only
    # logged; the call's turn found its system prompt and tools in the server's cache
    log = secretary_app.app.output
    assert WARMED_RU in log, log[-3000:]
    assert "LLM warm-up dead/default:ru failed" in log, log[-3000:]
    assert llama.log_path is not None
    hits = [(int(a), int(b)) for a, b in re.findall(
        r"(\d+) prefix-match hit, remaining (\d+) prompt tokens", llama.log_path.read_text()
    )]  # fmt: skip
    assert any(reused > 1500 and reused > 5 * new for reused, new in hits), hits
    heard = normalise(transcribe(result.received_pcm, "ru"))
    assert "секунд" in heard, heard
    channels, bridges = wait_asterisk_clean()
    assert channels == [] and bridges == []
