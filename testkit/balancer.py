"""The SIP load balancer's test harness: Debian's Kamailio on the shipped configuration
(deploy/kamailio/kamailio.cfg) in front of stand-in boxes, and callers through it.

A stand-in box is sipp answering INVITEs (and the balancer's OPTIONS probes) on its own
loopback address (127.0.0.2, 127.0.0.3, ...); what reached it is counted from sipp's message
trace. The caller follows the Record-Route, so its ACK and BYE cross the balancer as a real
phone's would. The cluster testbed puts real Asterisk boxes where the stand-ins are.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "deploy" / "kamailio" / "kamailio.cfg"
SCENARIOS = Path(__file__).with_name("sip")


class BalancerMissing(RuntimeError):
    """kamailio or sipp is not installed (scripts/setup installs both)."""


def free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _need(program: str) -> str:
    path = shutil.which(program) or (f"/usr/sbin/{program}"
                                     if Path(f"/usr/sbin/{program}").exists() else None)
    if path is None:
        raise BalancerMissing(f"{program} is not installed (scripts/setup installs it)")
    return path


@dataclass
class Box:
    """A stand-in box: sipp answering calls on `host:port`."""

    host: str
    port: int
    trace: Path  # each run's message trace is this path with the run's number added
    proc: subprocess.Popen[bytes] | None = None
    runs: int = 0

    @property
    def uri(self) -> str:
        return f"sip:{self.host}:{self.port}"

    def start(self) -> Box:
        self.runs += 1
        trace = self.trace.with_name(f"{self.trace.name}.{self.runs}")
        self.proc = subprocess.Popen(
            [_need("sipp"), "-sf", str(SCENARIOS / "box_stand_in.xml"), "-i", self.host,
             "-p", str(self.port), "-mi", self.host, "-trace_msg", "-message_file",
             str(trace), "-nostdin"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def kill(self) -> None:
        """Gone at once, as a box whose Asterisk was killed: no answer to anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def invites(self) -> int:
        """INVITEs that reached this box (over all its runs)."""
        return sum(1 for trace in self.trace.parent.glob(f"{self.trace.name}.*")
                   for line in trace.read_text(errors="replace").splitlines()
                   if line.startswith("INVITE sip:"))


@dataclass
class Balancer:
    """Kamailio on CONFIG, listening on 127.0.0.1 (a free port), over the boxes at
    `destinations` (SIP URIs: stand-ins' or the cluster testbed's Asterisks)."""

    workdir: Path
    destinations: list[str]
    ping_s: int = 1
    invite_ms: int = 2000
    port: int = field(default_factory=lambda: free_udp_port("127.0.0.1"))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.workdir / "kamailio.log"

    def start(self) -> Balancer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        listing = self.workdir / "dispatcher.list"
        listing.write_text("".join(f"1 {uri} 0 0\n" for uri in self.destinations))
        defines = [f"LISTEN=udp:127.0.0.1:{self.port}", f'DISPATCHER="{listing}"',
                   f'CTL="unix:{self.workdir}/kamailio_ctl"', f"PING_S={self.ping_s}",
                   f"INVITE_MS={self.invite_ms}"]
        args = [_need("kamailio"), "-DD", "-E", "-f", str(CONFIG), "-Y", str(self.workdir)]
        for define in defines:
            args += ["-A", define]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while b"main(): processes" not in self.log.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"kamailio did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def flags(self) -> dict[str, str]:
        """Each box's state as the balancer sees it (`kamcmd dispatcher.list`): "AP" active
        (and probed), "IP" inactive and probed until it answers."""
        listed = subprocess.run(
            [_need("kamcmd"), "-s", f"unix:{self.workdir}/kamailio_ctl", "dispatcher.list"],
            capture_output=True, text=True, timeout=10, check=False).stdout
        found, uri = {}, None
        for line in listed.splitlines():
            key, _, value = line.strip().partition(": ")
            if key == "URI":
                uri = value
            elif key == "FLAGS" and uri is not None:
                found[uri] = value
        return found

    def call(self, calls: int, rate: float,
             timeout_s: int = 60) -> subprocess.CompletedProcess[str]:
        """`calls` calls through the balancer at `rate` per second (each answered, then hung
        up by the caller); sipp's exit status is 0 when every one of them completed."""
        port = free_udp_port("127.0.0.1")
        return subprocess.run(
            [_need("sipp"), f"127.0.0.1:{self.port}", "-sf",
             str(SCENARIOS / "routed_caller.xml"), "-i", "127.0.0.1", "-p", str(port),
             "-m", str(calls), "-r", str(rate), "-s", "secretary", "-timeout", str(timeout_s),
             "-timeout_error", "-nostdin", "-trace_err", "-error_file",
             str(self.workdir / f"caller-{port}.errors")],
            capture_output=True, text=True, timeout=timeout_s + 30, check=False)
