"""Messages taken through the API (/chat, /process_call): stored in the calls database, as
those left on calls are, and sent to the staff in the background; what each staff channel
answered goes into the message's record (as app.py does for calls).

The database row has no call_id: a conversation of the API is not a call, and the messages
table refers to the calls table. The staff's notice names the conversation
(`api:<conversation id>`). When the database cannot be opened or written, the message is
still sent to the staff and the API goes on (GET /health shows the database's problem).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ari_app.notify.base import Notifications
from ari_app.notify.message import StaffMessage
from ari_app.storage import CallStore, StorageError

log = logging.getLogger(__name__)


class ApiMessages:
    def __init__(self, store: CallStore, notifications: Notifications) -> None:
        self.store = store
        self.notifications = notifications
        self._tasks: set[asyncio.Task[None]] = set()

    async def open(self) -> None:
        """Open the calls database (created if missing); a failure is logged, not raised."""
        try:
            await self.store.open()
        except StorageError as exc:
            log.error("api: messages will not be stored: %s", exc)

    async def keep(self, message: StaffMessage) -> int:
        """Store the message and send it to the staff; its id in the database (0: not
        stored)."""
        try:
            message_id = await self.store.add_message(None, message.stored())
        except StorageError as exc:
            log.error("api: message of %s not stored: %s", message.call_id, exc)
            message_id = 0
        else:
            log.info("api: message %d kept (%s): %s", message_id, message.call_id, message)
        sending = self.notifications.submit(message)
        if message_id:
            task = asyncio.create_task(self._record(message_id, sending))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return message_id

    async def _record(
        self, message_id: int, sending: asyncio.Task[dict[str, str | None]]
    ) -> None:
        """Which staff channels the message reached, once it is known."""
        await asyncio.wait({sending})
        if sending.cancelled() or sending.exception() is not None:
            return  # given up at shutdown, or failed: nothing to record
        results = sending.result()
        if not results:
            return  # no staff channel configured
        outcome = {ch: "ok" if err is None else f"failed: {err}" for ch, err in results.items()}
        try:
            await self.store.set_notified(message_id, outcome)
        except StorageError as exc:
            log.error("api: notification outcome of message %d not stored: %s", message_id, exc)

    async def close(self) -> None:
        """At shutdown: the deliveries still under way (up to their drain timeout), their
        outcomes written, then the database closed."""
        await self.notifications.drain()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(StorageError):
            await self.store.close()
