"""Errors shared across the app, each carrying a message a person can act on."""


class SecretaryError(Exception):
    """Base class; the CLI maps subclasses to exit codes."""

    exit_code = 1


class ConfigError(SecretaryError):
    """The configuration is malformed; the message names the file and the key."""

    exit_code = 2


class AriAuthError(SecretaryError):
    """Asterisk refused the ARI credentials."""

    exit_code = 3


class AriUnreachable(SecretaryError):
    """Asterisk's ARI could not be reached, or another instance already owns the app."""

    exit_code = 4


class EngineUnavailable(SecretaryError):
    """A speech engine or model is missing; the message says how to install it."""

    exit_code = 5
