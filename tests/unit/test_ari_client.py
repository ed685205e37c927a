"""AriClient against a fake HTTP transport (httpx.MockTransport, named as a fake): what an
Asterisk that is still loading its modules answers is "unreachable" (retried), not fatal."""

from __future__ import annotations

import httpx
import pytest

from ari_app.ari.client import AriClient, AriError
from ari_app.errors import AriUnreachable

NOT_FOUND_PAGE = "<html><head><title>404 Not Found</title></head></html>"


def fake_asterisk(status: int, body: str) -> AriClient:
    client = AriClient("http://127.0.0.1:8088", "secretary", "secret", "secretary")

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/ari/asterisk/info"
        return httpx.Response(status, text=body)

    client._http = httpx.AsyncClient(
        base_url="http://127.0.0.1:8088/ari", transport=httpx.MockTransport(answer)
    )
    return client


@pytest.mark.parametrize("status", [404, 503])
async def test_http_up_without_ari_is_unreachable_for_now(status: int) -> None:
    client = fake_asterisk(status, NOT_FOUND_PAGE)
    with pytest.raises(AriUnreachable, match=f"answers HTTP .* but not ARI \\({status}\\)"):
        await client.asterisk_info()
    await client.close()


async def test_other_errors_stay_errors_and_a_good_answer_is_read() -> None:
    broken = fake_asterisk(500, '{"message": "Internal Server Error"}')
    with pytest.raises(AriError) as raised:
        await broken.asterisk_info()
    assert raised.value.status == 500 and not isinstance(raised.value, AriUnreachable)
    await broken.close()
    good = fake_asterisk(200, '{"system": {"version": "22.10.1"}}')
    assert (await good.asterisk_info())["system"]["version"] == "22.10.1"
    await good.close()
