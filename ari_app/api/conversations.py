"""Conversations of the HTTP API, kept in memory: one Mind each (the rules, or the rules with
the language models: mind/llm_dialogue.py `make_mind`), with an id and a TTL.

A conversation is forgotten after `ttl_s` without a turn, on reset, or (the least recently
used one) when a new one would exceed `max_conversations`. Nothing survives a restart.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ari_app.mind.mind import Mind


@dataclass
class Conversation:
    id: str
    persona: str
    language: str
    mind: Mind[Any]
    last_used: float
    turns: int = 0
    ended: bool = False
    # one turn at a time: /process_call awaits STT and TTS between reading and replying
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class ConversationStore:
    def __init__(
        self,
        *,
        ttl_s: float = 1800.0,
        max_conversations: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s <= 0 or max_conversations < 1:
            raise ValueError("ttl_s must be > 0 and max_conversations >= 1")
        self.ttl_s = ttl_s
        self.max_conversations = max_conversations
        self._clock = clock
        self._items: OrderedDict[str, Conversation] = OrderedDict()  # oldest use first

    def __len__(self) -> int:
        self.purge()
        return len(self._items)

    def create(self, persona: str, language: str, mind: Mind[Any]) -> Conversation:
        self.purge()
        while len(self._items) >= self.max_conversations:
            self._items.popitem(last=False)
        conv = Conversation(
            id=uuid.uuid4().hex, persona=persona, language=language, mind=mind,
            last_used=self._clock(),
        )  # fmt: skip
        self._items[conv.id] = conv
        return conv

    def get(self, conversation_id: str) -> Conversation | None:
        """The live conversation (its TTL restarts), or None when unknown or expired."""
        self.purge()
        conv = self._items.get(conversation_id)
        if conv is not None:
            conv.last_used = self._clock()
            self._items.move_to_end(conversation_id)
        return conv

    def reset(self, conversation_id: str) -> bool:
        """Forget a conversation; False when there was none (or it had expired)."""
        self.purge()
        return self._items.pop(conversation_id, None) is not None

    def purge(self) -> int:
        """Drop expired conversations; returns how many."""
        deadline = self._clock() - self.ttl_s
        dropped = 0
        while self._items:
            oldest = next(iter(self._items.values()))
            if oldest.last_used > deadline:
                break
            self._items.popitem(last=False)
            dropped += 1
        return dropped
