"""The `notify:` config section. Secrets are never in the file: `*_env` names the variable.

```yaml
notify:
  smtp: {host: mail.example.com, port: 587, starttls: true, username: secretary,
         password_env: SECRETARY_SMTP_PASSWORD, from: secretary@example.com,
         to: [office@example.com]}
  webhook: {url: https://crm.example.com/hooks/secretary, secret_env: SECRETARY_WEBHOOK_SECRET,
            timeout_s: 5}
```
Either channel may be left out; with neither, taken messages are only logged.
This module imports nothing else of the app, so config.py can import it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _address(value: str) -> str:
    if "@" not in value or value.strip() != value or not value.split("@", 1)[1]:
        raise ValueError(f"expected an e-mail address such as office@example.com, got {value!r}")
    return value


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value


NonEmpty = Annotated[str, AfterValidator(_non_empty)]
Address = Annotated[str, AfterValidator(_address)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class SmtpConfig(_Section):
    host: NonEmpty
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True  # upgrade the plain connection (port 587)
    ssl: bool = False  # implicit TLS from the first byte (port 465)
    username: NonEmpty | None = None
    password_env: NonEmpty | None = None  # the environment variable holding the password
    sender: Address = Field(alias="from")
    to: list[Address] = Field(min_length=1)
    timeout_s: float = Field(default=10.0, gt=0)
    attempts: int = Field(default=3, ge=1, le=10)

    @model_validator(mode="after")
    def _one_tls_mode(self) -> SmtpConfig:
        if self.ssl and self.starttls:
            raise ValueError("choose one of ssl (port 465) and starttls (port 587), not both")
        if self.password_env is not None and self.username is None:
            raise ValueError("password_env is set but username is not")
        return self


class WebhookConfig(_Section):
    url: Annotated[str, AfterValidator(_http_url)]
    secret_env: NonEmpty | None = None  # the variable holding the HMAC-SHA256 key
    timeout_s: float = Field(default=5.0, gt=0)
    attempts: int = Field(default=4, ge=1, le=10)
    retry_initial_s: float = Field(default=0.5, gt=0)


class NotifyConfig(_Section):
    smtp: SmtpConfig | None = None
    webhook: WebhookConfig | None = None
