"""Runs `secretary run` as a child process for the demo, the benchmark and the tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
TESTBED_CONFIG = REPO / "config" / "testbed.yaml"
READY_MARK = "secretary: ready"


# A greeting as short as a busy receptionist's (~2 s against the default's ~4.5 s), for
# test modules whose calls do not depend on what the greeting says or how long it lasts:
# each of their callers answers it once it is over, so every call is that much shorter.
SHORT_GREETING = {"ru": "«Ромашка», Анна, здравствуйте!", "en": "Romashka, Anna speaking."}


def write_config(
    directory: Path, overrides: Mapping[str, Mapping[str, Any]] | None = None,
    greeting: Mapping[str, str] | None = None, persona: Mapping[str, Any] | None = None,
) -> Path:
    """The testbed config with storage inside `directory` and per-section overrides.
    `greeting`: the personas greet with it instead; `persona`: fields set in every persona
    (copies of them in `directory`, made from the personas_dir the overrides name, if they
    name one)."""
    data: dict[str, Any] = yaml.safe_load(TESTBED_CONFIG.read_text())
    data.setdefault("storage", {})
    data["storage"]["database"] = str(directory / "calls.sqlite3")
    data["storage"]["recordings_dir"] = str(directory / "recordings")
    data.setdefault("paths", {})
    data["paths"]["models_dir"] = str(REPO / "models")
    data["paths"]["personas_dir"] = str(REPO / "config" / "personas")
    for section, values in (overrides or {}).items():
        if isinstance(values, Mapping):
            data.setdefault(section, {}).update(values)
        else:
            data[section] = values
    fields = {**(persona or {}), **({"greeting": dict(greeting)} if greeting else {})}
    if fields:
        data["paths"]["personas_dir"] = str(_persona_copies(
            Path(data["paths"]["personas_dir"]), directory / "personas-set", fields))
    path = directory / "secretary.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def _persona_copies(personas: Path, directory: Path, fields: Mapping[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for source in sorted(personas.glob("*.yaml")):
        persona = yaml.safe_load(source.read_text())
        persona.update(fields)
        (directory / source.name).write_text(
            yaml.safe_dump(persona, allow_unicode=True, sort_keys=False))
    return directory


class LocalApp:
    """`secretary run -c CONFIG` in a child process; its log goes to `log_path`."""

    def __init__(self, config: Path, log_path: Path, env: Mapping[str, str] | None = None):
        self.config = config
        self.log_path = log_path
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[str] | None = None
        self._ready = threading.Event()
        self._lines: list[str] = []

    def start(self, timeout_s: float = 60.0, wait_ready: bool = True) -> LocalApp:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ari_app.cli.main", "run", "-c", str(self.config)],
            cwd=REPO, env=self.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        threading.Thread(target=self._drain, daemon=True).start()
        if wait_ready:
            self.wait_ready(timeout_s)
        return self

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        with self.log_path.open("w") as log:
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                self._lines.append(line)
                if READY_MARK in line:
                    self._ready.set()

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not self._ready.wait(0.1):
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"secretary exited ({self.proc.returncode}):\n{self.output}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"secretary not ready in {timeout_s} s:\n{self.output}")

    def wait_exit(self, timeout_s: float = 30.0) -> int:
        assert self.proc is not None
        rc = self.proc.wait(timeout_s)
        time.sleep(0.1)  # let the drain thread read the last lines
        return rc

    @property
    def output(self) -> str:
        return "".join(self._lines)

    def stop(self, timeout_s: float = 15.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def __enter__(self) -> LocalApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def caller_lines(outdir: Path) -> dict[str, Path]:
    """The test caller's utterances as headerless mu-law for sipp, by line name
    (ru_hours, ru_bye, en_hours, en_bye)."""
    from testkit.runner import make_caller_audio

    files = make_caller_audio(outdir)
    return {n.removesuffix(".ulaw"): p for n, p in files.items() if n.endswith(".ulaw")}
