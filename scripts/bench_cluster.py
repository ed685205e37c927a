"""`bench.py cluster`: the cluster testbed (testkit/cluster.py: two Asterisk boxes with a
secretary each, one PostgreSQL, the shipped Kamailio in front) under N callers, then one
box's Asterisk killed while callers keep coming.

Prints how the calls were spread (`calls_per_node`, the busiest box's share), how long
each caller waited from dialling to the greeting (p50/p95, before and after the kill),
`failover_s` (the kill to the balancer sending no new calls to that box), callers left
unanswered, and `records_in_db` against the calls placed."""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ari_app.storage import CallStore
from testkit.cluster import Cluster, caller_ports
from testkit.postgres import PostgresServer
from testkit.runner import CallResult, place_call

AT_ONCE = 4
LISTEN_MS = 3000


def _calls(cluster: Cluster, workdir: Path, count: int, at_once: int
           ) -> list[tuple[float, CallResult]]:
    assert cluster.balancer is not None
    port = cluster.balancer.port
    ports = caller_ports(count)

    def one(n: int) -> tuple[float, CallResult]:
        dialled = time.time()
        return dialled, asyncio.run(place_call(
            exten="100", utterances=[], workdir=workdir / f"call-{n}", hangup="caller",
            hangup_wait_ms=LISTEN_MS, sip_host="127.0.0.1", sip_port=port, routed=True,
            local_sip_port=ports[n][0], media_port=ports[n][1], timeout_s=60))

    with ThreadPoolExecutor(at_once) as pool:
        return list(pool.map(one, range(count)))


def _waits(results: list[tuple[float, CallResult]]) -> tuple[list[float], int]:
    waits, unanswered = [], 0
    for dialled, result in results:
        heard = result.first_reply_after(0.0)
        if result.sipp_rc != 0 or heard is None:
            unanswered += 1
        else:
            waits.append(heard - dialled)
    return waits, unanswered


async def _records(url: str) -> list[dict[str, Any]]:
    async with CallStore(url) as store:
        return (await store.search_calls(limit=1000))[0]


def run(calls: int, write: Callable[[str], None] | None, machine: str,
        p50_p95: Callable[[list[float]], tuple[float, float]]) -> dict[str, Any]:
    server = PostgresServer().start()
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    cluster = Cluster(work, asyncio.run(server.database()))
    try:
        cluster.start()
        assert cluster.balancer is not None
        time.sleep(3)  # the first probes answered
        spread = _calls(cluster, work / "spread", calls, AT_ONCE)
        before_waits, before_lost = _waits(spread)
        box_a = cluster.node("box-a")
        marked: list[float] = []

        def watch(killed_at: float) -> None:
            while time.time() - killed_at < 60:
                if cluster.balancer.flags().get(box_a.uri, "A").startswith("I"):  # type: ignore[union-attr]
                    marked.append(time.time() - killed_at)
                    return
                time.sleep(0.05)

        killed_at = time.time()
        box_a.kill_asterisk()
        watcher = threading.Thread(target=watch, args=(killed_at,))
        watcher.start()
        after = _calls(cluster, work / "failover", 10, 2)
        watcher.join()
        after_waits, after_lost = _waits(after)
        time.sleep(2)
        found = asyncio.run(_records(cluster.database_url))
    finally:
        cluster.stop()
        server.stop()
    spread_nodes = Counter(c["node"] for c in sorted(found, key=lambda c: c["started_at"])[:calls])
    busiest = max(spread_nodes.values()) / calls if spread_nodes else 1.0
    b50, b95 = p50_p95(before_waits or [0.0])
    a50, a95 = p50_p95(after_waits or [0.0])
    summary = {
        "calls": calls, "calls_per_node": dict(spread_nodes), "busiest_share": round(busiest, 2),
        "failover_s": round(marked[0], 2) if marked else None,
        "unanswered": before_lost + after_lost, "records_in_db": len(found),
        "calls_placed": calls + len(after), "wait_to_greeting_p95_s": b95,
        "wait_after_kill_p95_s": a95,
    }
    section = "\n".join([
        "## Several boxes behind the SIP load balancer", "",
        f"{machine}; {time.strftime('%Y-%m-%d')}. `scripts/bench.py cluster -n {calls}`: the "
        "cluster testbed on this one machine (two Asterisk boxes with a secretary each, one "
        "PostgreSQL, Kamailio on `deploy/kamailio/kamailio.cfg`); callers dial the balancer "
        f"{AT_ONCE} at a time and listen to the greeting for {LISTEN_MS / 1000:g} s. Then "
        "box-a's Asterisk is killed (SIGKILL) and 10 more callers dial, 2 at a time.", "",
        "| | figure |", "|---|---|",
        f"| calls per box | {dict(spread_nodes)} (busiest {busiest:.0%}; target at most 60%) |",
        f"| dial to greeting, before the kill | p50 {b50} s, p95 {b95} s |",
        f"| dial to greeting, after the kill | p50 {a50} s, p95 {a95} s |",
        f"| failover_s (kill to no new calls for the box) | {summary['failover_s']} "
        "(target at most 10 s) |",
        f"| callers unanswered | {summary['unanswered']} (target 0) |",
        f"| records in the database / calls placed | {len(found)} / "
        f"{summary['calls_placed']} |",
    ])
    print(section)
    if write is not None:
        write(section)
    return summary
