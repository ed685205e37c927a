"""Fixtures for the integration tests: a real Asterisk (scripts/asterisk-testbed)."""

from __future__ import annotations

import re
import subprocess
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from testkit.human_speech import HumanClip

REPO = Path(__file__).resolve().parents[2]
TESTBED_SCRIPT = REPO / "scripts" / "asterisk-testbed"


@dataclass(frozen=True)
class AsteriskTestbed:
    ari_url: str
    username: str
    password: str
    app: str
    sip_host: str
    sip_port: int


def run_testbed(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run scripts/asterisk-testbed; output captured (stdout and stderr together)."""
    return subprocess.run(
        [str(TESTBED_SCRIPT), *args], cwd=REPO, capture_output=True, text=True,
        timeout=timeout, check=False,
    )


def testbed_env() -> dict[str, str]:
    """The SECRETARY_* variables that `asterisk-testbed env` exports."""
    out = run_testbed("env").stdout
    return dict(
        line.removeprefix("export ").split("=", 1) for line in out.splitlines() if "=" in line
    )


@pytest.fixture(scope="session")
def asterisk_testbed() -> Iterator[AsteriskTestbed]:
    """The running testbed; started here (and stopped at the end) unless it already ran."""
    already_running = run_testbed("status").returncode == 0
    started = run_testbed("start")  # the first run on a fresh machine also sets it up
    if started.returncode != 0:
        pytest.fail(
            f"scripts/asterisk-testbed start failed ({started.returncode}):\n"
            f"{started.stdout}{started.stderr}",
            pytrace=False,
        )
    env = testbed_env()
    yield AsteriskTestbed(
        ari_url=env["SECRETARY_ARI_URL"],
        username=env["SECRETARY_ARI_USER"],
        password=env["SECRETARY_ARI_PASSWORD"],
        app="secretary",  # Stasis(secretary) in asterisk/dialplan/secretary.conf
        sip_host=env["SECRETARY_SIP_HOST"],
        sip_port=int(env["SECRETARY_SIP_PORT"]),
    )
    if not already_running:
        stopped = run_testbed("stop", timeout=60)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr


@pytest.fixture(scope="module", autouse=True)
def asterisk_answers(request: pytest.FixtureRequest) -> None:
    """Before each module that uses the testbed: is Asterisk answering ARI (a request and a
    websocket handshake)? A wedged one is restarted, loudly, after its threads' stacks and
    task processors are kept under .testbed/wedges/ (testkit/testbed_health.py)."""
    if "asterisk_testbed" not in request.fixturenames:
        return
    from testkit.testbed_health import keep_evidence, why_unhealthy

    testbed: AsteriskTestbed = request.getfixturevalue("asterisk_testbed")
    why = why_unhealthy(testbed.ari_url, testbed.username, testbed.password)
    if why is None:
        return
    status = run_testbed("status", timeout=60).stdout
    pid = re.search(r"pid (\d+)", status)
    chroot = REPO / ".testbed" / "root"
    report = keep_evidence(int(pid.group(1)) if pid else None, [str(TESTBED_SCRIPT), "cli"],
                           REPO / ".testbed" / "wedges", chroot if chroot.is_dir() else None)
    message = (f"ASTERISK WEDGED before {request.module.__name__}: {why}; its threads and task "
               f"processors are in {report}; restarting the testbed")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"\n{'!' * 20} {message}", red=True, bold=True)
    warnings.warn(message, stacklevel=1)
    restarted = run_testbed("restart")
    again = why_unhealthy(testbed.ari_url, testbed.username, testbed.password)
    if restarted.returncode != 0 or again is not None:
        pytest.fail(f"the testbed did not come back after a restart ({again}):\n"
                    f"{restarted.stdout}{restarted.stderr}", pytrace=False)


# --- the app, the caller's audio and the transcription of what the caller heard -----------


@pytest.fixture(scope="session")
def caller_audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The caller's utterances (RHVoice Aleksandr / SLT, not the secretary's voices)."""
    from testkit.local import caller_lines

    return caller_lines(tmp_path_factory.mktemp("caller-audio"))


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One llama-server with the packaged SmolLM2 for every module whose app calls a local
    model (ari_app.llm.local_server.LocalLlamaServer). Started once: the next module's app
    then finds the persona's prompt in its cache and warms up in about a second instead of
    reading the ~2300-token Russian fact sheet again (~17 s on 2 cores)."""
    from ari_app.llm.local_server import LocalLlamaServer, packaged_smollm2

    log = tmp_path_factory.mktemp("llama") / "server.log"
    # the persona's fact sheet in Russian is ~2300 SmolLM2 tokens: more than 2048
    with LocalLlamaServer(packaged_smollm2(), n_ctx=8192, log_path=log) as server:
        yield server


@dataclass
class RunningApp:
    app: Any  # testkit.local.LocalApp
    config: Path
    db: Path | str  # the SQLite file, or the PostgreSQL URL of storage.url
    calls_before: int = 0


def run_secretary(
    tmp_path_factory: pytest.TempPathFactory, name: str = "secretary",
    overrides: dict[str, Any] | None = None, greeting: Mapping[str, str] | None = None,
) -> Iterator[RunningApp]:
    """`secretary run` on the testbed config (with `overrides` per section, and personas
    that greet with `greeting` if given), its records in a tmp dir; stopped with SIGTERM
    afterwards, which must exit 0. For module fixtures."""
    from testkit.local import LocalApp, write_config

    directory = tmp_path_factory.mktemp(name)
    config = write_config(directory, overrides, greeting)
    url = ((overrides or {}).get("storage") or {}).get("url")
    app = LocalApp(config, directory / "secretary.log").start()
    try:
        yield RunningApp(app=app, config=config, db=url or directory / "calls.sqlite3")
    finally:
        rc = app.stop()
        assert rc == 0, f"secretary exited {rc} on SIGTERM:\n{app.output[-3000:]}"


@pytest.fixture(scope="module")
def secretary_app(
    asterisk_testbed: AsteriskTestbed, tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[RunningApp]:
    """`secretary run` on the testbed config, one per test module. A module that sets
    `GREETING` (testkit.local.SHORT_GREETING) has the personas greet with it."""
    yield from run_secretary(tmp_path_factory, greeting=getattr(request.module, "GREETING", None))


@pytest.fixture(scope="session")
def transcribe() -> Callable[..., str]:
    """Whisper (the packaged base model) on 8 kHz PCM as the caller heard it. `vad=True`
    hears only the speech (faster-whisper's packaged Silero VAD): for audio with a ring-back
    tone in it, on which Whisper can loop a made-up word for the rest of its 30 s window and
    leave out the speech after it (seen on a fresh clone: "ксюшка" 14 times over a declined
    transfer's ring-back and the offer that followed it)."""
    from callkit import pcm8k_to_16k_float
    from faster_whisper import WhisperModel

    model = WhisperModel(str(REPO / "models" / "whisper-base"), device="cpu", compute_type="int8")

    def run(pcm8k: bytes, language: str, vad: bool = False) -> str:
        segments, _ = model.transcribe(
            pcm8k_to_16k_float(pcm8k), language=language, beam_size=1, temperature=0.0,
            condition_on_previous_text=False, vad_filter=vad,
        )
        return " ".join(s.text.strip() for s in segments)

    return run


@pytest.fixture
def night(request: pytest.FixtureRequest, asterisk_testbed: AsteriskTestbed) -> Iterator[bool]:
    """Night mode (AstDB secretary/night) as the test's parameter asks (use it with
    `indirect=True`), and off again afterwards."""
    from lineskit import db_del, db_put  # lineskit imports this module

    if request.param:
        db_put("secretary", "night", "1")
    else:
        db_del("secretary", "night")
    yield bool(request.param)
    db_del("secretary", "night")


@pytest.fixture(scope="session")
def human_speech() -> dict[str, HumanClip]:
    """The labelled real human speech set (tests/data/human_speech), id -> clip, made by
    scripts/setup in var/human-speech (and brought up to date here if it is not)."""
    from testkit.human_speech import HumanSpeechError, assemble

    try:
        return assemble(REPO / "var" / "human-speech")
    except HumanSpeechError as exc:
        pytest.fail(f"the human speech set cannot be assembled: {exc}", pytrace=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless chromium under Playwright, for the console's browser tests (skipped,
    saying why, where the package is missing)."""
    from consolekit import launched_browser, require_chromium

    require_chromium()
    with launched_browser() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser profile (Russian locale, desktop size) and its page."""
    from consolekit import new_page

    with new_page(browser) as p:
        yield p
