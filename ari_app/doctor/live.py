"""`secretary doctor`'s look at a running `secretary run`: its `/metrics` on console.listen
(calls in progress, records that could not be written, whether it is stopping)."""

from __future__ import annotations

import httpx

from ari_app.config import Config
from ari_app.doctor.check import Check
from ari_app.metrics import read_samples

NAME = "secretary run"


async def live_checks(cfg: Config) -> list[Check]:
    address = cfg.console.address
    if address is None:
        return [Check(NAME, "ok", "not checked: console.listen is off")]
    host, port = address
    if port == 0:
        return [Check(NAME, "ok", "not checked: console.listen has port 0 (chosen at start)")]
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}/metrics"
    try:
        async with httpx.AsyncClient(timeout=3.0) as client:
            reply = await client.get(url)
        reply.raise_for_status()
    except httpx.HTTPError as exc:
        return [Check(NAME, "ok", f"not running (nothing answers at {url}: {exc})")]
    return judge_metrics(read_samples(reply.text), url)


def judge_metrics(samples: dict[str, float], url: str) -> list[Check]:
    """What a scrape of the running app says, as checks."""
    def total(prefix: str) -> float:
        return sum(v for k, v in samples.items() if k.startswith(prefix))

    active = total("secretary_calls_active")
    ended = total("secretary_calls_total")
    checks = [Check(NAME, "ok", f"running ({url}): {active:.0f} call(s) in progress, "
                                f"{ended:.0f} ended since it started")]
    if samples.get("secretary_draining", 0) > 0:
        checks.append(Check(f"{NAME}: stopping", "warn",
                            "it is handing its calls back to the dialplan to stop"))
    failed = total("secretary_record_write_failures_total")
    checks.append(Check.of(
        f"{NAME}: call records written", failed == 0,
        "every write succeeded" if failed == 0 else f"{failed:.0f} write(s) failed",
        "see its log for 'could not write its record'; check the disk and storage.database",
    ))
    return checks
