"""What the endpoints share: the config, the engines, the personas, the conversations, the
language models and where taken messages go."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from fastapi import Request

from ari_app.api.conversations import ConversationStore
from ari_app.api.messages import ApiMessages
from ari_app.api.settings import ApiConfig
from ari_app.api.speech import Speech
from ari_app.config import Config
from ari_app.llm.chain import FallbackChain
from ari_app.mind.persona import Persona
from ari_app.notify.base import Notifications


@dataclass
class ApiState:
    config: Config
    settings: ApiConfig
    speech: Speech
    personas: Mapping[str, Persona]
    conversations: ConversationStore
    notifications: Notifications
    messages: ApiMessages  # taken messages: stored in the calls database, sent to the staff
    llm: FallbackChain | None = None  # the `llm:` section's providers; None: the rules alone

    @property
    def persona_problem(self) -> str | None:
        """Why the configured persona cannot serve the configured lines, or None."""
        cfg = self.config
        names = {cfg.persona} | {line.persona for line in cfg.lines.values() if line.persona}
        for name in sorted(names):
            if name not in self.personas:
                return f"persona {name!r} is not loaded (from {cfg.paths.personas_dir})"
        persona = self.personas[cfg.persona]
        if cfg.default_language not in persona.languages:
            return f"persona {cfg.persona!r} has no texts in {cfg.default_language!r}"
        return None


def get_state(request: Request) -> ApiState:
    return cast(ApiState, request.app.state.api)
