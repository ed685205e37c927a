"""Is the testbed's Asterisk answering? Once it went silent for 16 minutes in the middle of a
suite (its HTTP port accepted connections, every ARI websocket handshake timed out) and
two dozen tests failed one after another. The integration conftest asks `why_unhealthy`
before each test module; when Asterisk is wedged it keeps the evidence (`keep_evidence`:
every thread's stack from gdb, the task processors) and restarts it, saying so loudly.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import websockets

PROBE_APP = "testbed-health-probe"


def why_unhealthy(ari_url: str, user: str, password: str, timeout_s: float = 5.0) -> str | None:
    """None when ARI answers a request and a websocket handshake within `timeout_s` each;
    otherwise what failed."""
    try:
        reply = httpx.get(f"{ari_url}/ari/asterisk/info", auth=(user, password),
                          timeout=timeout_s)
        reply.raise_for_status()
    except httpx.HTTPError as exc:
        return f"ARI request: {exc.__class__.__name__}: {exc}"
    return asyncio.run(_handshake(ari_url, user, password, timeout_s))


async def _handshake(ari_url: str, user: str, password: str, timeout_s: float) -> str | None:
    url = ari_url.replace("http", "ws", 1) + f"/ari/events?app={PROBE_APP}"
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    try:
        async with websockets.connect(url, open_timeout=timeout_s, close_timeout=1,
                                      additional_headers={"Authorization": f"Basic {token}"}):
            return None
    except (OSError, TimeoutError, websockets.WebSocketException) as exc:
        return f"ARI websocket handshake: {exc.__class__.__name__}: {exc}"


def keep_evidence(pid: int | None, cli: list[str], into: Path,
                  sysroot: Path | None = None) -> Path:
    """What a wedged Asterisk was doing: gdb's `thread apply all bt` of process `pid` and
    `core show taskprocessors` (through the `cli` command prefix), written under `into`.
    `sysroot`: the chroot Asterisk runs in, so gdb finds its libraries and modules and the
    stacks name Asterisk's exported functions."""
    into.mkdir(parents=True, exist_ok=True)
    report = into / f"asterisk-wedged-{time.strftime('%Y%m%d-%H%M%S')}.txt"
    parts = [f"pid {pid}"]
    if pid is not None and shutil.which("gdb"):
        root = ["-ex", f"set sysroot {sysroot}"] if sysroot is not None else []
        parts.append(_output(["gdb", "-p", str(pid), "-batch", *root,
                              "-ex", "thread apply all bt"], timeout_s=120))
    else:
        parts.append("gdb: not run (no pid, or gdb missing: apt-get install gdb)")
    parts.append(_output([*cli, "core show taskprocessors"], timeout_s=20))
    parts.append(_output([*cli, "core show channels"], timeout_s=20))
    report.write_text("\n\n".join(parts))
    return report


def _output(cmd: list[str], timeout_s: float) -> str:
    head = "$ " + " ".join(cmd)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{head}\n{exc}"
    return f"{head}\n{done.stdout}{done.stderr}"
