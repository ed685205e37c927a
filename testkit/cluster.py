"""The cluster testbed: several boxes on one machine, each a real Asterisk (a node of
scripts/asterisk-testbed, in its own root, on its own loopback address) with its own
`secretary run`, their records in one PostgreSQL, and the shipped Kamailio in front.

    box-a  127.0.0.2  Asterisk (SIP 5060, ARI 8088) + secretary (console 127.0.0.2:8080)
    box-b  127.0.0.3  the same
    Kamailio on 127.0.0.1, a free port (the single-box testbed keeps 127.0.0.1:5060)

Callers dial Kamailio; it spreads their calls over the boxes' Asterisks, which hand them to
their secretaries; every call is recorded in the one database with the box that took it.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testkit.balancer import Balancer, free_udp_port
from testkit.local import REPO, LocalApp, write_config
from testkit.runner import free_rtp_port

TESTBED = REPO / "scripts" / "asterisk-testbed"
NODES = (("box-a", "127.0.0.2"), ("box-b", "127.0.0.3"))


def caller_ports(count: int) -> list[tuple[int, int]]:
    """(SIP port, RTP port) for `count` sipp callers started at once, chosen before any of
    them binds: each free now, and no two RTP ranges overlapping (sipp binds P..P+3). Chosen
    one by one in each caller's thread, two could pick the same port before either bound it."""
    rtp: list[int] = []
    while len(rtp) < count:
        port = free_rtp_port("127.0.0.1")
        if all(abs(port - other) >= 4 for other in rtp):
            rtp.append(port)
    sip: list[int] = []
    while len(sip) < count:
        port = free_udp_port("127.0.0.1")
        if port not in sip and all(abs(port - other) >= 4 for other in rtp):
            sip.append(port)
    return list(zip(sip, rtp, strict=True))


@dataclass
class Node:
    name: str
    address: str
    app: LocalApp | None = None
    config: Path | None = None

    def testbed(self, command: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "ASTERISK_TESTBED_NODE": self.name,
               "ASTERISK_TESTBED_ADDRESS": self.address}
        return subprocess.run([str(TESTBED), command], capture_output=True, text=True,
                              env=env, timeout=180, check=False)

    def start_asterisk(self) -> None:
        done = self.testbed("start")
        if done.returncode != 0:
            raise RuntimeError(f"{self.name}'s Asterisk did not start:\n{done.stdout}{done.stderr}")

    def asterisk_pid(self) -> int | None:
        pidfile = REPO / ".testbed" / "nodes" / self.name / "root" / "run" / "asterisk" / \
            "asterisk.pid"
        try:
            return int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def kill_asterisk(self) -> None:
        """SIGKILL, as a crash: no BYE, no goodbye to the balancer's probes."""
        pid = self.asterisk_pid()
        if pid is None:
            raise RuntimeError(f"{self.name}'s Asterisk is not running")
        os.kill(pid, signal.SIGKILL)

    @property
    def uri(self) -> str:
        return f"sip:{self.address}:5060"

    @property
    def console(self) -> str:
        return f"http://{self.address}:8080"

    def write_config(self, workdir: Path, database_url: str) -> Path:
        directory = workdir / self.name
        directory.mkdir(parents=True, exist_ok=True)
        self.config = write_config(directory, {
            "ari": {"url": f"http://{self.address}:8088"},
            "media": {"bind_host": self.address, "external_host": self.address},
            "ami": {"host": self.address},
            "console": {"listen": f"{self.address}:8080"},
            "storage": {"url": database_url, "node": self.name},
        })
        return self.config


@dataclass
class Cluster:
    workdir: Path
    database_url: str
    nodes: list[Node] = field(default_factory=lambda: [Node(n, a) for n, a in NODES])
    balancer: Balancer | None = None

    def start(self) -> Cluster:
        for node in self.nodes:
            node.start_asterisk()
        for node in self.nodes:  # both load their models at once
            config = node.write_config(self.workdir, self.database_url)
            node.app = LocalApp(config, self.workdir / f"{node.name}.log").start(
                wait_ready=False)
        for node in self.nodes:
            assert node.app is not None
            node.app.wait_ready(180)
        self.balancer = Balancer(self.workdir / "kamailio", [n.uri for n in self.nodes])
        self.balancer.start()
        return self

    def stop(self) -> dict[str, Any]:
        """Everything stopped; each secretary's exit status (0: a clean SIGTERM)."""
        codes: dict[str, Any] = {}
        if self.balancer is not None:
            self.balancer.stop()
        for node in self.nodes:
            if node.app is not None:
                codes[node.name] = node.app.stop()
        for node in self.nodes:
            node.testbed("stop")
        return codes

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)
