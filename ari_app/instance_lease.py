"""One secretary per ARI app name: a lease kept in an Asterisk global variable.

Two programs on one Stasis app steal each other's calls. Asterisk keeps listing an app
after its program died, so the app list cannot tell a live rival from a dead one. Instead the
running secretary writes `host:pid:unix_time` into a global variable every few seconds;
a second one that finds a fresh lease held by someone else refuses to start. A lease held by
a dead process on this host, or one not renewed for LEASE_S, is taken over.
"""

from __future__ import annotations

import os
import re
import socket
import time
from dataclasses import dataclass

from ari_app.ari.client import AriClient, AriError

LEASE_S = 15.0
RENEW_S = 5.0


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    renewed: float

    @classmethod
    def parse(cls, value: str) -> Holder | None:
        parts = value.rsplit(":", 2)
        if len(parts) != 3:
            return None
        try:
            return cls(parts[0], int(parts[1]), float(parts[2]))
        except ValueError:
            return None

    def alive(self, now: float) -> bool:
        if now - self.renewed > LEASE_S:
            return False
        if self.host == socket.gethostname():
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
        return True


class InstanceLease:
    def __init__(self, ari: AriClient, app: str) -> None:
        self.ari = ari
        self.variable = "SECRETARY_LEASE_" + re.sub(r"[^A-Za-z0-9_]", "_", app).upper()
        self.me = f"{socket.gethostname()}:{os.getpid()}"

    async def rival(self) -> Holder | None:
        """Another live secretary holding the lease, if any."""
        try:
            value = await self.ari.request(
                "GET", "/asterisk/variable", params={"variable": self.variable}
            )
        except AriError as exc:
            if exc.status == 404:
                return None
            raise
        holder = Holder.parse(str((value or {}).get("value", "")))
        if holder is None or f"{holder.host}:{holder.pid}" == self.me:
            return None
        return holder if holder.alive(time.time()) else None

    async def renew(self) -> None:
        await self.ari.request(
            "POST", "/asterisk/variable",
            params={"variable": self.variable, "value": f"{self.me}:{time.time():.0f}"},
        )

    async def release(self) -> None:
        await self.ari.request(
            "POST", "/asterisk/variable", params={"variable": self.variable, "value": ""}
        )
