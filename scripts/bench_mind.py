#!/usr/bin/env python3
"""The mind's latency: time to first token per LLM provider and the fallback hand-over.

- Time to first token (request sent -> first text or tool call) over N requests per provider
  that can run here: the local llama.cpp server on the packaged SmolLM2-135M always; OpenAI,
  Gemini, Anthropic, DeepSeek and OpenRouter only when their key's environment variable is
  set (otherwise reported as skipped).
- A call's first turn on the example persona's English prompt (fact sheet and tools): with
  the server's prompt cache holding another prompt (cold), and after the app's start-up
  warm-up sent the persona's prompt with the clock 7 minutes earlier (warmed).
- The hand-over: a first provider that accepts the connection and never answers, then the
  llama server. Time to the filler phrase (target <= 1 s) and time to the first real token,
  compared with the llama server's own time to first token.

`run(n)` returns the summary (scripts/bench.py may call it); the command line prints a table,
`--write` puts it in docs/benchmarks.md between `<!-- bench:mind -->` markers, and the last
line printed is the summary as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import json
import logging
import os
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ari_app.llm.base import (  # noqa: E402
    Done,
    Filler,
    LlmProvider,
    Message,
    TextDelta,
    Tool,
    ToolCall,
)
from ari_app.llm.chain import FallbackChain, Link  # noqa: E402
from ari_app.llm.config import LlmConfig, ProviderConfig  # noqa: E402
from ari_app.llm.factory import build_provider  # noqa: E402
from ari_app.llm.local_server import (  # noqa: E402
    INSTALL_HINT,
    LocalLlamaServer,
    llama_server_available,
    packaged_smollm2,
)
from ari_app.llm.prompt import build_system_prompt  # noqa: E402
from ari_app.llm.secrets import Secret  # noqa: E402
from ari_app.llm.tools import SECRETARY_TOOLS  # noqa: E402
from ari_app.llm.warmup import warm_up  # noqa: E402
from ari_app.mind.llm_dialogue import system_prompt, warm_up_messages  # noqa: E402
from ari_app.mind.persona import load_persona  # noqa: E402

FACTS = "Opening hours: Monday to Friday, 9:00 to 18:00. Address: 1 Lenin Street."
QUESTIONS = (
    "Hello! When are you open on Friday?",
    "Where is your office?",
    "Can I speak to the accountant, please?",
    "Are you open on Saturday?",
    "I would like to leave a message for the director.",
)
COMPANIES = ("Romashka", "Vasilek", "Oduvanchik", "Landysh", "Siren", "Kolokolchik")


def messages(i: int, new_company: bool = False) -> list[Message]:
    """Request i: a new question each time (the server cannot answer from its cache); with
    `new_company` also a new system prompt, so no prefix of the prompt is cached either."""
    company = f"{COMPANIES[i % len(COMPANIES)]} {i}" if new_company else "Romashka"
    return [
        Message("system", build_system_prompt(FACTS, company, "Anna", "en", "friendly")),
        Message("user", QUESTIONS[i % len(QUESTIONS)]),
    ]


MAX_TOKENS = 32
# cloud providers: (label, kind, key variable, model, base_url or None for the kind's default)
CLOUD = (
    ("openai", "openai", "OPENAI_API_KEY", "gpt-4o-mini", None),
    ("gemini", "gemini", "GEMINI_API_KEY", "gemini-2.0-flash", None),
    ("anthropic", "anthropic", "ANTHROPIC_API_KEY", "claude-3-5-haiku-latest", None),
    ("deepseek", "openai", "DEEPSEEK_API_KEY", "deepseek-chat", "https://api.deepseek.com/v1"),
    ("openrouter", "openai", "OPENROUTER_API_KEY", "openai/gpt-4o-mini",
     "https://openrouter.ai/api/v1"),
)  # fmt: skip
LLAMA = "llama.cpp:smollm2-135m"
HANG_FIRST_TOKEN_S = 1.5  # the hanging provider's first_token_timeout_s in the hand-over test


def bench_helpers() -> ModuleType:
    """scripts/bench.py, for its percentile, table, machine and doc-section helpers."""
    spec = importlib.util.spec_from_file_location("bench", REPO / "scripts" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def first_token_ms(
    provider: LlmProvider, turn: list[Message], tools: Sequence[Tool] = ()
) -> float | None:
    """Milliseconds from sending `turn` to its first text or tool call (the whole reply is
    read); None when none came."""
    started = time.perf_counter()
    first = None
    async for event in provider.stream(turn, tools):
        if first is None and isinstance(event, TextDelta | ToolCall):
            first = (time.perf_counter() - started) * 1000
    return first


async def ttft_runs(
    config: ProviderConfig, key: Secret | None, n: int, new_company: bool = False
) -> list[float]:
    """Milliseconds from the request to the first text or tool call, n requests."""
    provider = build_provider(config, key)
    out = []
    try:
        for i in range(n):
            first = await first_token_ms(provider, messages(i, new_company))
            if first is not None:
                out.append(first)
    finally:
        await provider.aclose()
    return out


async def first_turn_runs(config: ProviderConfig, n: int, warmed: bool) -> list[float]:
    """Milliseconds to the first text or tool call of a call's first turn, n calls. Before
    each, the server's cache is given an unrelated prompt, then (warmed) the persona's."""
    persona = load_persona(REPO / "config" / "personas" / "default.yaml")
    provider = build_provider(config, None)
    other = [Message("system", "You are a poet."), Message("user", "A rhyme, please.")]
    out = []
    try:
        for i in range(n):
            at = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=11 * i)
            await warm_up(provider, other, (), 120)
            if warmed:
                await warm_up(provider, warm_up_messages(persona, "en", at), SECRETARY_TOOLS, 120)
            turn = [
                Message("system", system_prompt(persona, "en", at + dt.timedelta(minutes=7))),
                Message("assistant", "Hello, Romashka flower shop, Anna speaking."),
                Message("user", QUESTIONS[i % len(QUESTIONS)]),
            ]
            first = await first_token_ms(provider, turn, SECRETARY_TOOLS)
            if first is not None:
                out.append(first)
    finally:
        await provider.aclose()
    return out


class Unanswered:
    """A port whose connections the kernel accepts and nobody ever answers (listen() without
    accept()): a provider that hangs before its first byte."""

    def __enter__(self) -> str:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    def __exit__(self, *exc: object) -> None:
        self._sock.close()


async def handover_runs(llama_url: str, n: int) -> tuple[list[float], list[float]]:
    """(filler ms, first real token ms) per turn through hanging -> llama."""
    filler_after_s = LlmConfig.model_fields["filler_after_s"].default
    fillers, answers = [], []
    with Unanswered() as hanging_url:
        hang = ProviderConfig(kind="openai", name="hanging", model="x", base_url=hanging_url,
                              first_token_timeout_s=HANG_FIRST_TOKEN_S, max_tokens=MAX_TOKENS)
        local = ProviderConfig(kind="openai", name="llama", model="local", base_url=llama_url,
                               first_token_timeout_s=20, total_timeout_s=60,
                               max_tokens=MAX_TOKENS)  # fmt: skip
        links = [Link(build_provider(c, None), c.first_token_timeout_s, c.total_timeout_s)
                 for c in (hang, local)]  # fmt: skip
        chain = FallbackChain(links, {"en": ("One moment...",)}, filler_after_s, "en")
        try:
            for i in range(n):
                async for event in chain.stream(messages(i + 1)):
                    if isinstance(event, Filler):
                        fillers.append(event.after_ms)
                    elif isinstance(event, Done) and event.first_token_ms is not None:
                        answers.append(event.first_token_ms)
        finally:
            await chain.aclose()
    return fillers, answers


async def measure(n: int, log_dir: Path) -> dict[str, Any]:
    ttft: dict[str, list[float]] = {}
    skipped: dict[str, str] = {}
    fillers: list[float] = []
    answers: list[float] = []
    if llama_server_available():
        with LocalLlamaServer(packaged_smollm2(), log_path=log_dir / "llama-server.log") as srv:
            local = ProviderConfig(kind="openai", name="llama", model="local",
                                   base_url=srv.base_url, first_token_timeout_s=20,
                                   total_timeout_s=60, max_tokens=MAX_TOKENS)  # fmt: skip
            await ttft_runs(local, None, 1)  # warm-up
            ttft[LLAMA] = await ttft_runs(local, None, n)
            # right after, with the same system prompt cached, so that the two compare
            fillers, answers = await handover_runs(srv.base_url, n)
            ttft[LLAMA + ", new system prompt"] = await ttft_runs(local, None, n, True)
            big = local.model_copy(update={"first_token_timeout_s": 120, "total_timeout_s": 180})
            turns = max(3, n // 2)
            ttft[LLAMA + ", a call's first turn, cold"] = await first_turn_runs(big, turns, False)
            ttft[LLAMA + ", a call's first turn, warmed"] = await first_turn_runs(big, turns, True)
    else:
        skipped[LLAMA] = f"llama-cpp-python not installed ({INSTALL_HINT})"
    for label, kind, env_name, model, base_url in CLOUD:
        value = os.environ.get(env_name, "").strip()
        name = f"{label}:{model}"
        if not value:
            skipped[name] = f"{env_name} not set"
            continue
        config = ProviderConfig(kind=kind, name=label, model=model, base_url=base_url,  # type: ignore[arg-type]
                                first_token_timeout_s=20, total_timeout_s=60,
                                max_tokens=MAX_TOKENS)  # fmt: skip
        try:
            ttft[name] = await ttft_runs(config, Secret(value), n)
        except Exception as exc:  # one provider failing is reported, not fatal
            skipped[name] = f"failed: {exc}"
    return {"ttft": ttft, "skipped": skipped, "fillers": fillers, "answers": answers}


def run(n: int = 10, write: bool = False) -> dict[str, Any]:
    helpers = bench_helpers()
    p50_p95 = helpers.p50_p95
    with tempfile.TemporaryDirectory(prefix="bench-mind-") as tmp:
        raw = asyncio.run(measure(n, Path(tmp)))
    summary: dict[str, Any] = {"benchmark": "mind", "requests": n, "ttft_ms": {},
                               "ttft_p95_ms": {}, "skipped": raw["skipped"]}  # fmt: skip
    rows: list[tuple[str, tuple[float, float]]] = []
    for name, values in raw["ttft"].items():
        if values:
            p50, p95 = p50_p95(values)
            summary["ttft_ms"][name], summary["ttft_p95_ms"][name] = p50, p95
            rows.append((f"time to first token, {name} (n={len(values)})", (p50, p95)))
    if raw["fillers"]:
        summary["fallback_filler_ms"], summary["fallback_filler_p95_ms"] = p50_p95(raw["fillers"])
        rows.append((f"hand-over: filler phrase after (n={len(raw['fillers'])})",
                     p50_p95(raw["fillers"])))  # fmt: skip
    if raw["answers"]:
        summary["fallback_answer_ms"], summary["fallback_answer_p95_ms"] = p50_p95(raw["answers"])
        rows.append((f"hand-over: first token of the next provider (n={len(raw['answers'])})",
                     p50_p95(raw["answers"])))  # fmt: skip
        own = summary["ttft_ms"].get(LLAMA)
        if own is not None:
            # what the hand-over itself costs beyond waiting out the hanging provider
            summary["fallback_overhead_ms"] = round(
                summary["fallback_answer_ms"] - HANG_FIRST_TOKEN_S * 1000 - own, 1
            )
    skipped = "; ".join(f"{k}: {v}" for k, v in raw["skipped"].items()) or "none"
    lines = [
        f"## Mind: LLM time to first token and fallback ({dt.date.today().isoformat()})", "",
        f"Machine: {helpers.machine()}. {n} requests per provider after one warm-up, a short "
        f"English system prompt with facts, max_tokens {MAX_TOKENS}; time to first token is "
        "request sent -> first text delta, through our adapters. Each request asks a new "
        "question under the same system prompt (as the turns of a call do: the server reuses "
        "the cached prefix); the \"new system prompt\" row changes the prompt near its start "
        "each time, so the whole prompt is processed. \"A call's first turn\": the example "
        "persona's English system prompt (its fact sheet) with the tools, a greeting "
        "and a question; cold after another prompt, warmed after the start-up warm-up sent it "
        "with the clock 7 minutes earlier (llm/warmup.py). Hand-over: a first "
        "provider "
        f"that accepts the connection and never answers (first_token_timeout_s "
        f"{HANG_FIRST_TOKEN_S}), then the llama.cpp server; the filler phrase is due at "
        f"llm.filler_after_s (default {LlmConfig.model_fields['filler_after_s'].default} s). "
        f"Skipped: {skipped}.", "",
        *helpers.table(rows),
    ]  # fmt: skip
    if "fallback_overhead_ms" in summary:
        lines += ["", f"Hand-over overhead beyond the timeout and the next provider's own first "
                      f"token (p50s): {summary['fallback_overhead_ms']} ms."]  # fmt: skip
    print("\n".join(lines))
    if write:
        helpers.write_doc("mind", "\n".join(lines))
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=10)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the chain's hand-over warnings are expected
    summary = run(args.requests, write=args.write)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
