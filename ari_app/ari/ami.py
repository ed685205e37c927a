"""A short AMI session for `secretary doctor`: log in, ask, read the answers, log off.

The secretary controls calls through ARI only. AMI answers what ARI cannot: which modules are
loaded, the modem's and the trunks' state, the dialplan, Asterisk's listening addresses.
panoramisk speaks the protocol; this wrapper adds a time limit on every step, errors that name
the config key to fix, and no reconnect loop (panoramisk's Manager reconnects forever, which
suits a daemon and not a check that asks once).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ari_app.errors import SecretaryError

PASSWORD_ENV = "SECRETARY_AMI_PASSWORD"
# panoramisk logs each connection and each action it re-queues at INFO; doctor prints what
# matters itself.
_wire_log = logging.getLogger(__name__ + ".panoramisk")
_wire_log.setLevel(logging.WARNING)


class AmiConfig(BaseModel):
    """`ami:` in the config: the AMI user `secretary doctor` logs in as (manager_users.conf)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=5038, ge=1, le=65535)
    username: str = Field(default="secretary-doctor", min_length=1)
    # Better from the environment (SECRETARY_AMI_PASSWORD), which wins over this.
    password: str | None = Field(default=None, repr=False)
    timeout_s: float = Field(default=5.0, gt=0)
    # Calls arrive from a GSM modem through chan_quectel: without the module or a registered
    # modem, doctor fails instead of warning.
    gsm_line: bool = False


def ami_password(cfg: AmiConfig, env: Mapping[str, str] | None = None) -> str | None:
    """SECRETARY_AMI_PASSWORD if set, else ami.password."""
    environ = os.environ if env is None else env
    return environ.get(PASSWORD_ENV) or cfg.password


class AmiError(SecretaryError):
    """AMI could not be used; `fix` says what to change, naming the key or file."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


@dataclass(frozen=True)
class AmiReply:
    """One action's answer: the Response message and the events of its list, if any."""

    response: Mapping[str, str]
    events: list[Mapping[str, str]] = field(default_factory=list)

    @classmethod
    def from_messages(cls, messages: Sequence[Mapping[str, Any]]) -> AmiReply:
        """From messages as received (repeated headers, e.g. Output, as lists)."""
        flat = [
            {k: v if isinstance(v, str) else "\n".join(map(str, v)) for k, v in m.items()}
            for m in messages
        ]
        if not flat:
            return cls({"Response": "Error", "Message": "no answer"})
        return cls(flat[0], [m for m in flat[1:] if "Event" in m])

    @property
    def ok(self) -> bool:
        return self.response.get("Response") in ("Success", "Follows")

    @property
    def message(self) -> str:
        return self.response.get("Message", "")

    @property
    def denied(self) -> bool:
        """The AMI user's write= classes do not cover the action."""
        return self.message == "Permission denied"

    @property
    def output(self) -> str:
        """The text a Command action printed (its Output headers)."""
        return self.response.get("Output", "")

    def items(self, event: str) -> list[Mapping[str, str]]:
        return [e for e in self.events if e.get("Event") == event]


class AmiSession:
    """A logged-in AMI connection. Use `await AmiSession.open(...)`, then `close()`."""

    def __init__(self, manager: Any, timeout_s: float) -> None:
        self._manager = manager
        self._timeout_s = timeout_s

    @classmethod
    async def open(cls, cfg: AmiConfig, password: str | None) -> AmiSession:
        where = f"{cfg.host}:{cfg.port}"
        if not password:
            raise AmiError(
                f"no AMI password: ami.password is not set, nor {PASSWORD_ENV}",
                f"set {PASSWORD_ENV} (or ami.password) to the secret of "
                f"[{cfg.username}] in manager_users.conf",
            )
        from panoramisk import Manager
        from panoramisk.ami_protocol import AMIProtocol

        class _AskOnce(Manager):
            def connection_lost(self, exc: Exception | None) -> None:
                # No reconnect: doctor reports and moves on. Actions still waiting are
                # failed now rather than left to their time limit.
                me: Any = self
                me.close()
                while me.awaiting_actions:
                    future = me.awaiting_actions.popleft().future
                    if not future.done():
                        future.set_exception(ConnectionError("Asterisk closed AMI"))

        loop = asyncio.get_running_loop()
        # ping_delay: no keep-alive pings during a session of a few seconds.
        manager = _AskOnce(loop=loop, host=cfg.host, port=cfg.port, username=cfg.username,
                           secret=password, events="off", ping_delay=3600, log=_wire_log)
        try:
            async with asyncio.timeout(cfg.timeout_s):
                connected = await loop.create_connection(AMIProtocol, cfg.host, cfg.port)
        except (OSError, TimeoutError) as exc:
            why = "no answer" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
            raise AmiError(
                f"nothing answers AMI at {where} (ami.host, ami.port): {why}",
                "enable AMI in manager.conf (enabled = yes, see asterisk/etc/manager.conf), "
                "then `manager reload`; or correct ami.host / ami.port",
            ) from None
        done: asyncio.Future[Any] = loop.create_future()
        done.set_result(connected)
        manager.connection_made(done)  # panoramisk's own hook: sends Login
        session = cls(manager, cfg.timeout_s)
        try:
            async with asyncio.timeout(cfg.timeout_s):
                login = await manager.authenticated_future
        except TimeoutError:
            await session.close()
            raise AmiError(
                f"AMI at {where} accepted the connection but did not answer the login "
                f"in {cfg.timeout_s:g} s (is it Asterisk's AMI port? ami.port)",
                "point ami.host / ami.port at the AMI port of manager.conf (5038)",
            ) from None
        if login.response != "Success":
            await session.close()
            raise AmiError(
                f"Asterisk refused AMI user '{cfg.username}' at {where}: "
                f"{login.message or login.response} (check ami.username and ami.password)",
                f"ami.username must name a user in manager_users.conf and ami.password "
                f"(or {PASSWORD_ENV}) its secret; its permit= must allow this host",
            )
        return session

    async def action(self, name: str, **params: str) -> AmiReply:
        request = {"Action": name, **params}
        if self._manager.protocol.closed:
            return AmiReply({"Response": "Error", "Message": "Asterisk closed AMI"})
        try:
            async with asyncio.timeout(self._timeout_s):
                answer = await self._manager.send_action(request)
        except TimeoutError:
            return AmiReply({"Response": "Error",
                             "Message": f"no answer to {name} in {self._timeout_s:g} s"})
        except ConnectionError as exc:
            return AmiReply({"Response": "Error", "Message": str(exc)})
        return AmiReply.from_messages(answer if isinstance(answer, list) else [answer])

    async def command(self, cli: str) -> AmiReply:
        """A CLI command through the Command action (needs write=command)."""
        return await self.action("Command", Command=cli)

    async def close(self) -> None:
        if self._manager.authenticated and not self._manager.protocol.closed:
            try:
                async with asyncio.timeout(1.0):
                    await self._manager.send_action({"Action": "Logoff"})
            except (TimeoutError, OSError):
                pass
        self._manager.close()
