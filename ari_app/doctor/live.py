"""`secretary doctor`'s look at a running `secretary run`: its `/metrics` on console.listen
(calls in progress, records that could not be written, whether it is stopping)."""

from __future__ import annotations

import httpx

from ari_app.config import Config
from ari_app.doctor.check import Check
from ari_app.metrics import read_samples
from ari_app.record_spool import read_spool

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


def spool_check(cfg: Config) -> Check:
    """Record writes a run could not put in the database and saved for the next start."""
    path = cfg.storage.spool_path
    writes = read_spool(path)
    if not writes:
        return Check("call records spool", "ok", f"empty ({path})")
    calls = len({w.call_id for w in writes})
    return Check(
        "call records spool", "warn",
        f"{len(writes)} record write(s) of {calls} call(s) wait in {path}: the database "
        "refused them (disk full, read-only or locked)",
        "free space or fix the permissions of storage.database; the next `secretary run` "
        "writes them",
    )


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
    spooled = samples.get("secretary_record_writes_spooled", 0)
    if spooled:
        checks.append(Check(f"{NAME}: call records", "warn",
                            f"{spooled:.0f} write(s) wait for the database (full, read-only "
                            "or locked); they are retried every few seconds",
                            "free space or fix the permissions of storage.database"))
    failed = total("secretary_record_write_failures_total")
    checks.append(Check.of(
        f"{NAME}: call records written", failed == 0,
        "every write succeeded" if failed == 0 else f"{failed:.0f} write(s) failed",
        "see its log for 'could not write its record'; check the disk and storage.database",
    ))
    return checks
