"""Builds the configured notification channels; secrets come from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ari_app.errors import ConfigError
from ari_app.notify.base import Notifications, Notifier
from ari_app.notify.settings import NotifyConfig
from ari_app.notify.smtp import SmtpNotifier
from ari_app.notify.webhook import WebhookNotifier


def _secret(env: Mapping[str, str], variable: str | None, key: str) -> str | None:
    if variable is None:
        return None
    value = env.get(variable)
    if not value:
        raise ConfigError(f"{key}: the environment variable {variable} is not set")
    return value


def build_notifications(
    config: NotifyConfig | None, env: Mapping[str, str] | None = None
) -> Notifications:
    """One notifier per configured channel (none: messages are only logged)."""
    environ = os.environ if env is None else env
    notifiers: list[Notifier] = []
    if config is not None and config.smtp is not None:
        password = _secret(environ, config.smtp.password_env, "notify.smtp.password_env")
        notifiers.append(SmtpNotifier(config.smtp, password))
    if config is not None and config.webhook is not None:
        secret = _secret(environ, config.webhook.secret_env, "notify.webhook.secret_env")
        notifiers.append(
            WebhookNotifier(config.webhook, secret.encode("utf-8") if secret else None)
        )
    return Notifications(notifiers)
