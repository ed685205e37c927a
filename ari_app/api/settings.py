"""The `api:` config section (this module imports nothing else of the app).

```yaml
api: {host: 127.0.0.1, port: 8000, conversation_ttl_s: 1800, max_conversations: 1000,
      max_audio_s: 60}
```
The API has no authentication: keep it on 127.0.0.1 or behind a proxy that has.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ApiConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8000, ge=1, le=65535)
    # an idle conversation is forgotten after this long
    conversation_ttl_s: float = Field(default=1800.0, gt=0)
    # the oldest idle conversation is dropped when a new one would exceed this
    max_conversations: int = Field(default=1000, ge=1)
    # longest accepted upload for /stt and /process_call
    max_audio_s: float = Field(default=60.0, gt=0)
