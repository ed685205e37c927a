"""Two boxes behind the SIP load balancer, on this one machine (testkit/cluster.py): real
Asterisks on 127.0.0.2 and 127.0.0.3, a `secretary run` each, one real PostgreSQL, the
shipped Kamailio in front, real sipp callers dialling it.

Calls are spread over both boxes and all recorded in the one database with the box that
took them; one console (either box's) shows them all. Then one box's Asterisk is killed:
every new caller is answered, by the other box, and the dead one gets no new calls."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from ari_app.storage import CallStore
from testkit.cluster import Cluster, caller_ports
from testkit.postgres import PostgresServer
from testkit.runner import CallResult, place_call

pytestmark = pytest.mark.integration
GREETING_MS = 4000  # each caller listens this long, then hangs up
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory,
            postgres_server: PostgresServer) -> Iterator[Cluster]:
    url = asyncio.run(postgres_server.database())
    running = Cluster(tmp_path_factory.mktemp("cluster"), url)
    try:
        running.start()
        assert running.balancer is not None
        wait_for(lambda: set(running.balancer.flags().values()) == {"AP"},  # type: ignore[union-attr]
                 "both boxes answer the balancer's probes", running)
        yield running
    finally:
        codes = running.stop()
    assert codes == {"box-a": 0, "box-b": 0}, codes  # a clean SIGTERM, Asterisk gone or not


def wait_for(condition: Any, what: str, cluster: Cluster, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            assert cluster.balancer is not None
            pytest.fail(f"{what}: not within {timeout_s} s; the balancer sees "
                        f"{cluster.balancer.flags()}")
        time.sleep(0.2)


def calls(cluster: Cluster, workdir: Path, count: int, at_once: int = 4) -> list[CallResult]:
    """`count` callers through the balancer, `at_once` at a time; each hears the greeting for
    GREETING_MS and hangs up."""
    assert cluster.balancer is not None
    port = cluster.balancer.port
    ports = caller_ports(count)

    def one(n: int) -> CallResult:
        return asyncio.run(place_call(
            exten="100", utterances=[], workdir=workdir / f"call-{n}", hangup="caller",
            hangup_wait_ms=GREETING_MS, sip_host="127.0.0.1", sip_port=port, routed=True,
            local_sip_port=ports[n][0], media_port=ports[n][1], timeout_s=60))

    with ThreadPoolExecutor(at_once) as pool:
        return list(pool.map(one, range(count)))


def greeted(results: list[CallResult]) -> None:
    for n, result in enumerate(results):
        assert result.sipp_rc == 0, f"caller {n} was not answered:\n{result.sipp_log[-3000:]}"
        assert result.first_reply_after(0.0) is not None, f"caller {n} heard no greeting"


def records(cluster: Cluster, count: int) -> list[dict[str, Any]]:
    """The database's calls once `count` of them have ended."""
    async def read() -> list[dict[str, Any]]:
        async with CallStore(cluster.database_url) as store:
            return (await store.search_calls(limit=200))[0]

    deadline = time.monotonic() + 20
    while True:
        found = asyncio.run(read())
        if sum(1 for c in found if c["ended_at"]) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def test_calls_spread_over_both_boxes_into_one_database_and_one_console(
    cluster: Cluster, tmp_path: Path,
) -> None:
    greeted(calls(cluster, tmp_path, 8))
    found = records(cluster, 8)
    assert len(found) == 8 and all(c["ended_at"] for c in found), found
    per_box = Counter(c["node"] for c in found)
    assert set(per_box) == {"box-a", "box-b"} and max(per_box.values()) <= 5, per_box

    # an account made on one box signs in on the other's console, which shows every call
    made = subprocess.run(
        [sys.executable, "-m", "ari_app.cli.main", "user", "add", "-c",
         str(cluster.node("box-b").config), "rita", "--role", "receptionist"],
        input="rita-secret-1\n", capture_output=True, text=True, timeout=60, check=False)
    assert made.returncode == 0, made.stdout + made.stderr
    with httpx.Client(base_url=f"{cluster.node('box-a').console}/api", timeout=10) as client:
        login = client.post("/login", json={"name": "rita", "password": "rita-secret-1"})
        assert login.status_code == 200, login.text
        listed = client.get("/calls", params={"limit": 50}).json()
        assert listed["total"] == 8
        only_b = client.get("/calls", params={"node": "box-b"}).json()
        assert only_b["total"] == per_box["box-b"]
    assert Counter(shown_boxes(cluster.node("box-a").console, "rita", "rita-secret-1")) == per_box


def shown_boxes(console: str, name: str, password: str) -> list[str]:
    """The box of each call on the console's Calls page, in a real browser (Debian's
    chromium under Playwright), signed in as `name`."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/setup installs Debian's chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_context(locale="en-US").new_page()
            page.goto(f"{console}/calls")
            page.fill("input[name=name]", name)
            page.fill("input[name=password]", password)
            page.click("button[type=submit]")
            page.wait_for_selector("[data-testid=call-node]")
            return [cell.inner_text().strip()
                    for cell in page.query_selector_all("[data-testid=call-node]")]
        finally:
            browser.close()


def test_a_box_whose_asterisk_dies_gets_no_new_calls_and_no_caller_is_lost(
    cluster: Cluster, tmp_path: Path,
) -> None:
    assert cluster.balancer is not None
    before = len(records(cluster, 0))
    cluster.node("box-a").kill_asterisk()
    results = calls(cluster, tmp_path, 6, at_once=2)
    greeted(results)  # every caller answered, the first ones after the balancer's timeout
    found = records(cluster, before + 6)
    new = sorted(found, key=lambda c: c["started_at"])[before:]
    assert [c["node"] for c in new] == ["box-b"] * 6, new
    assert cluster.balancer.flags()[cluster.node("box-a").uri].startswith("I")
    app = cluster.node("box-a").app
    assert app is not None and app.proc is not None and app.proc.poll() is None, \
        "box-a's secretary must wait for its Asterisk, not exit"
