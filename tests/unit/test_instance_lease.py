import os
import socket
import subprocess
import sys
import time

from ari_app.instance_lease import LEASE_S, Holder


def test_parse() -> None:
    assert Holder.parse("pbx-1:4242:1700000000") == Holder("pbx-1", 4242, 1700000000.0)
    assert Holder.parse("") is None
    assert Holder.parse("host:notapid:1") is None


def test_a_fresh_lease_of_a_live_process_is_alive() -> None:
    now = time.time()
    assert Holder(socket.gethostname(), os.getpid(), now).alive(now)
    assert Holder("another-host", 1, now - 1).alive(now)  # cannot check a remote pid


def test_stale_or_dead_holders_are_not_alive() -> None:
    now = time.time()
    assert not Holder("another-host", 1, now - LEASE_S - 1).alive(now)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert not Holder(socket.gethostname(), dead.pid, now).alive(now)
