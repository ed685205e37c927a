"""What the three HTTP adapters share: one httpx client per provider, with the provider's
timeouts (connect within the first-token time, the whole reply within the total), its name
for logs and the record, and closing."""

from __future__ import annotations

import httpx

from ari_app.llm.config import ProviderConfig
from ari_app.llm.secrets import Secret


class HttpProvider:
    def __init__(
        self,
        config: ProviderConfig,
        api_key: Secret | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self._key = api_key
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(config.total_timeout_s, connect=config.first_token_timeout_s),
        )

    @property
    def name(self) -> str:
        return self.config.label

    async def aclose(self) -> None:
        await self._client.aclose()
