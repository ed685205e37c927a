"""The SIP load balancer we ship (deploy/kamailio/kamailio.cfg) on Debian's real Kamailio,
real sipp callers and stand-in boxes (sipp on 127.0.0.2 and 127.0.0.3): calls spread over
the boxes, a box killed loses no caller and gets no new calls, and back it gets calls again.
The cluster testbed repeats this with real Asterisk boxes behind it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.balancer import Balancer, Box, free_udp_port


@pytest.fixture
def boxes(tmp_path: Path) -> Iterator[list[Box]]:
    port = free_udp_port("127.0.0.2")
    started = [Box(host, port, tmp_path / f"{host}.trace").start()
               for host in ("127.0.0.2", "127.0.0.3")]
    try:
        yield started
    finally:
        for box in started:
            box.kill()


@pytest.fixture
def balancer(tmp_path: Path, boxes: list[Box]) -> Iterator[Balancer]:
    lb = Balancer(tmp_path / "kamailio", [box.uri for box in boxes])
    try:
        lb.start()
        wait_for(lambda: set(lb.flags().values()) == {"AP"}, "both boxes answer the probes", lb)
        yield lb
    finally:
        lb.stop()


def wait_for(condition: object, what: str, lb: Balancer, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s} s; the balancer sees {lb.flags()}\n"
                        f"{lb.log.read_text()[-3000:]}")
        time.sleep(0.2)


def answered(lb: Balancer, calls: int, rate: float) -> None:
    done = lb.call(calls, rate)
    assert done.returncode == 0, f"a caller was not answered:\n{done.stdout[-3000:]}" \
                                 f"{done.stderr[-2000:]}\n{lb.log.read_text()[-3000:]}"


def test_calls_are_spread_over_the_boxes(balancer: Balancer, boxes: list[Box]) -> None:
    answered(balancer, 20, 10)
    counts = [box.invites() for box in boxes]
    assert sum(counts) == 20, counts
    assert max(counts) <= 12, counts  # neither box above 60%


def test_a_killed_box_loses_no_caller_and_gets_no_new_calls(
    balancer: Balancer, boxes: list[Box],
) -> None:
    a, b = boxes
    answered(balancer, 4, 10)
    a.kill()
    # calls keep coming while the balancer finds out: each one is answered, by b
    answered(balancer, 10, 5)
    assert balancer.flags()[a.uri].startswith("I"), balancer.flags()
    tried_a = a.invites()
    before_b = b.invites()
    answered(balancer, 6, 10)
    assert a.invites() == tried_a  # no new call went to the dead box
    assert b.invites() == before_b + 6

    a.start()  # back: one answered probe and it takes calls again
    wait_for(lambda: balancer.flags()[a.uri].startswith("A"), "the box back in service",
             balancer)
    answered(balancer, 6, 10)
    assert a.invites() > tried_a
