"""Reproduce (or rule out) the ARI deadlock of asterisk/asterisk#2170 on the running testbed.

Each round opens an ARI events websocket for two apps, places three Local channels to the
testbed's tone extension (each one changes device states), hangs them up and closes the
websocket. With `--subscribe all` the apps are registered with `subscribeAll=true`, so the
close unsubscribes them from every device state while a device state may be on its way to
them: on 2026-12-05 the testbed's Asterisk 22 stopped answering handshakes after 18, 21, 31
and 1 rounds in four tries, with one thread in `stasis_app_unregister` ->
`stasis_unsubscribe_and_join` and the device-state dispatchers blocked in `stasis_app_send`.
With `--subscribe channel` (what the tests' listener does now: `subscribeAll=false`, then a
subscription to `channel:`) 100 rounds never stalled (slowest handshake 0.011 s),
nor did a 5-minute run.

    scripts/asterisk-testbed start
    .venv/bin/python scripts/ari_wedge_repro.py --subscribe channel --rounds 200
    scripts/asterisk-testbed restart   # after a wedge

Prints one line per slow handshake and a summary; exits 1 when a handshake times out.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import httpx
import websockets

ARI = "http://127.0.0.1:8088/ari"
WS = "ws://127.0.0.1:8088/ari/events"
AUTH = ("secretary", "testbed-secret")
APPS = ("wedge-probe-a", "wedge-probe-b")
TONE = "Local/199@testbed-tools"  # answers and plays a tone for 5 s (no app needed)


async def one_round(n: int, http: httpx.AsyncClient, subscribe: str,
                    timeout_s: float) -> float | None:
    """Seconds the handshake took, or None when it timed out."""
    every = "true" if subscribe == "all" else "false"
    url = f"{WS}?app={','.join(APPS)}&subscribeAll={every}&api_key={AUTH[0]}:{AUTH[1]}"
    started = time.monotonic()
    try:
        ws = await websockets.connect(url, open_timeout=timeout_s, close_timeout=1)
    except TimeoutError:
        return None
    took = time.monotonic() - started
    if subscribe == "channel":
        for app in APPS:
            await http.post(f"{ARI}/applications/{app}/subscription",
                            params={"eventSource": "channel:"})
    ids = [f"wedge-probe-{n}-{k}" for k in range(3)]
    for channel_id in ids:
        await http.post(f"{ARI}/channels",
                        params={"endpoint": TONE, "app": APPS[0], "channelId": channel_id})
    await asyncio.sleep(0.05 * (n % 5))
    for channel_id in ids:
        await http.delete(f"{ARI}/channels/{channel_id}")
    await ws.close()
    return took


async def main(subscribe: str, rounds: int, timeout_s: float) -> int:
    worst = 0.0
    async with httpx.AsyncClient(auth=AUTH, timeout=10) as http:
        for n in range(rounds):
            took = await one_round(n, http, subscribe, timeout_s)
            if took is None:
                print(f"round {n}: handshake timed out after {timeout_s:.0f} s: ARI is wedged")
                return 1
            worst = max(worst, took)
            if took > 1.0:
                print(f"round {n}: handshake took {took:.2f} s", flush=True)
    print(f"subscribe={subscribe}: {rounds} rounds, slowest handshake {worst:.3f} s")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribe", choices=("all", "channel"), default="channel")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=15.0, help="handshake timeout, s")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.subscribe, args.rounds, args.timeout)))
