"""The `console:` config section (this module imports nothing else of the app).

```yaml
console: {listen: "127.0.0.1:8080"}   # null: no HTTP server in `secretary run`
```
Port 0 takes a free port (the log says which). Keep it on loopback, or behind a TLS proxy.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator


class ConsoleConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    listen: str | None = "127.0.0.1:8080"  # host:port, [v6]:port; None: not served

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None:
            split_listen(value)
        return value

    @property
    def address(self) -> tuple[str, int] | None:
        return None if self.listen is None else split_listen(self.listen)


def split_listen(value: str) -> tuple[str, int]:
    """("127.0.0.1", 8080) from "127.0.0.1:8080", ("::1", 8080) from "[::1]:8080"."""
    host, sep, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected host:port such as 127.0.0.1:8080, got {value!r}")
    return host, int(port)
