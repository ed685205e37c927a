"""The notifier interface, and `Notifications`: every channel, with retries, never raising.

A taken message must reach the staff, but a failing mail server or webhook must never end
or stall a call: `Notifications.submit()` delivers in a background task, `notify()` returns
what failed per channel instead of raising, and every failure is logged with its reason.
Retrying lives here once; adapters make one attempt and say whether another may help.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ari_app.ari.events import Backoff
from ari_app.errors import SecretaryError
from ari_app.notify.message import StaffMessage

log = logging.getLogger(__name__)


class NotifyError(SecretaryError):
    """One delivery attempt failed; `retryable` says whether another attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    initial_s: float = 0.5
    maximum_s: float = 30.0


class Notifier(Protocol):
    """One channel (e-mail, webhook). `send` makes one attempt and raises NotifyError."""

    @property
    def name(self) -> str: ...

    @property
    def retry(self) -> RetryPolicy: ...

    async def send(self, message: StaffMessage) -> None: ...


class Notifications:
    """Delivers each message on every configured channel; failures are logged, not raised."""

    def __init__(
        self,
        notifiers: Sequence[Notifier] = (),
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.notifiers = list(notifiers)
        self._sleep = sleep
        self._tasks: set[asyncio.Task[dict[str, str | None]]] = set()

    @property
    def channels(self) -> list[str]:
        return [n.name for n in self.notifiers]

    async def notify(self, message: StaffMessage) -> dict[str, str | None]:
        """Deliver on all channels at once; returns channel -> None (delivered) or the error."""
        if not self.notifiers:
            log.warning(
                "message %s taken but no notify channel is configured (notify.smtp, "
                "notify.webhook): name=%r callback=%r reason=%r",
                message.id,
                message.name,
                message.callback_number,
                message.reason,
            )
            return {}
        results = await asyncio.gather(*(self._deliver(n, message) for n in self.notifiers))
        return dict(zip(self.channels, results, strict=True))

    def submit(self, message: StaffMessage) -> asyncio.Task[dict[str, str | None]]:
        """Deliver in the background (the call goes on); `drain()` waits for what is left."""
        task = asyncio.get_running_loop().create_task(
            self.notify(message), name=f"notify-{message.id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Wait for background deliveries (at shutdown); those still retrying are cancelled."""
        pending = set(self._tasks)
        if not pending:
            return
        _done, late = await asyncio.wait(pending, timeout=timeout_s)
        for task in late:
            log.warning("notification %s still undelivered at shutdown; giving up", task.get_name())
            task.cancel()
        if late:
            await asyncio.gather(*late, return_exceptions=True)

    async def _deliver(self, notifier: Notifier, message: StaffMessage) -> str | None:
        policy = notifier.retry
        backoff = Backoff(initial_s=policy.initial_s, maximum_s=policy.maximum_s, jitter=0.1)
        error = "not attempted"
        for attempt in range(1, policy.attempts + 1):
            try:
                await notifier.send(message)
            except NotifyError as exc:
                error = str(exc)
                if not exc.retryable or attempt == policy.attempts:
                    break
                delay = backoff.next_delay()
                log.info(
                    "notify %s: attempt %d of %d failed (%s); retrying in %.1f s",
                    notifier.name,
                    attempt,
                    policy.attempts,
                    exc,
                    delay,
                )
                await self._sleep(delay)
            except Exception as exc:  # a bug in one adapter must not reach the call
                log.exception("notify %s: unexpected failure", notifier.name)
                error = f"unexpected {type(exc).__name__}: {exc}"
                break
            else:
                log.info("notify %s: message %s delivered", notifier.name, message.id)
                return None
        log.warning(
            "notify %s: message %s NOT delivered after %d attempt(s): %s",
            notifier.name,
            message.id,
            attempt,
            error,
        )
        return error
