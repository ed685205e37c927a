"""`secretary doctor`: checks what a call needs and says in plain words what is wrong."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

from ari_app.api.health import check_database
from ari_app.ari.ami import AmiError, AmiSession, ami_password
from ari_app.ari.client import AriClient
from ari_app.config import Config, load_config
from ari_app.doctor.check import Check, exit_code
from ari_app.doctor.live import live_checks, spool_check
from ari_app.doctor.pbx import Expect, pbx_checks
from ari_app.errors import SecretaryError
from ari_app.instance_lease import InstanceLease
from ari_app.models import check_models
from ari_app.stt.vosk import packaged_vosk_model, vosk_dir_problem, vosk_fix


async def _ari_checks(cfg: Config) -> list[Check]:
    a = cfg.ari
    client = AriClient(a.url, a.username, a.password, a.app, timeout_s=3.0)
    checks: list[Check] = []
    try:
        info = await client.asterisk_info()
        version = (info.get("system") or {}).get("version", "?")
        checks.append(Check("Asterisk ARI reachable", "ok", f"{a.url}, Asterisk {version}"))
        checks.append(Check("ARI credentials", "ok", f"user '{a.username}' accepted"))
        rival = await InstanceLease(client, a.app).rival()
        if rival is None:
            checks.append(Check("ARI app name free", "ok", f"no secretary holds '{a.app}'"))
        else:
            checks.append(Check(
                "ARI app name free", "fail",
                f"a secretary on {rival.host} (pid {rival.pid}) holds '{a.app}'",
                "stop it first, or give this one another ari.app",
            ))
    except SecretaryError as exc:
        name = "ARI credentials" if exc.exit_code == 3 else "Asterisk ARI reachable"
        fix = (
            "set ari.username/ari.password (or SECRETARY_ARI_PASSWORD) to a user in ari.conf"
            if exc.exit_code == 3
            else "start Asterisk (testbed: scripts/asterisk-testbed start) and check ari.url"
        )
        checks.append(Check(name, "fail", str(exc), fix))
    finally:
        await client.close()
    return checks


def _model_checks(cfg: Config) -> list[Check]:
    if cfg.stt.engine == "vosk":
        model = cfg.stt.model
        try:
            vosk_dir = (packaged_vosk_model(model.removeprefix("packaged:"))
                        if model.startswith("packaged:") else cfg.paths.models_dir / model)
            problem = vosk_dir_problem(vosk_dir)
        except SecretaryError as exc:
            vosk_dir, problem = cfg.paths.models_dir / model, str(exc)
        vosk_check = Check.of(f"vosk:{model}", problem is None, problem or str(vosk_dir),
                              vosk_fix(vosk_dir) if problem else "")
        return [vosk_check, *check_models(cfg.paths.models_dir)[1:]]  # the voices; no Whisper
    return check_models(cfg.paths.models_dir, whisper_name=cfg.stt.model)


async def _pbx_checks(cfg: Config) -> list[Check]:
    """Asterisk's own view over AMI (doctor/pbx.py), when the config has an ami: section."""
    ami = cfg.ami
    if ami is None:
        return [Check(
            "PBX checks (AMI)", "warn",
            "skipped: no ami: section in the config (channel drivers, modem, trunks, dialplan)",
            "add ami: (config/secretary.example.yaml) and its user (asterisk/etc/manager.conf)",
        )]
    if not ami.enabled:
        return [Check("PBX checks (AMI)", "ok", "off (ami.enabled: false)")]
    where = f"{ami.username}@{ami.host}:{ami.port}"
    try:
        session = await AmiSession.open(ami, ami_password(ami))
    except AmiError as exc:
        return [Check("AMI login", "fail", str(exc), exc.fix)]
    try:
        expect = Expect(app=cfg.ari.app, media_transport=cfg.media.transport,
                        gsm_line=ami.gsm_line, ari_host=_url_host(cfg.ari.url),
                        ami_host=ami.host)
        return [Check("AMI login", "ok", where), *await pbx_checks(session, expect)]
    finally:
        await session.close()


async def database_check(cfg: Config) -> Check:
    """Can the call database be read (the SQLite file, or the server at storage.url)?"""
    status = await check_database(cfg.storage.target)
    key = "storage.url" if cfg.storage.url else "storage.database"
    return Check.of("call database", status.ok, f"{status.path}: {status.detail}",
                    f"check {key}; for a server, that it runs and PGPASSWORD is set")


def _url_host(url: str) -> str:
    return urlsplit(url).hostname or ""


_MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def print_checks(checks: list[Check]) -> None:
    width = max(len(c.name) for c in checks)
    for c in checks:
        print(f"{_MARKS[c.status]}  {c.name.ljust(width)}  {c.detail}")
        if c.status != "ok" and c.fix:
            print(f"      {' ' * width}  -> {c.fix}")


def summary(checks: list[Check]) -> str:
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    warnings = f"{warned} warning(s)" if warned else ""
    if failed:
        return f"{failed} problem(s) found" + (f", {warnings}." if warned else ".")
    return "All checks passed" + (f", {warnings}." if warned else ".")


async def doctor_checks(cfg: Config, source: str) -> list[Check]:
    """Every check, for a config loaded from `source`: ARI, the PBX over AMI (drivers,
    trunks' registrations, the GSM modem, the dialplan), the models, the call database, a
    running app's
    metrics and the records spool. Also what the console's Lines and health page shows."""
    checks = [Check("configuration", "ok", source)]
    checks += await _ari_checks(cfg)
    checks += await _pbx_checks(cfg)
    checks += await asyncio.to_thread(_model_checks, cfg)  # reads model files' sizes
    checks.append(await database_check(cfg))
    checks += await live_checks(cfg)
    checks.append(await asyncio.to_thread(spool_check, cfg))
    return checks


async def run_doctor(config_path: Path) -> int:
    """Exit status 1 when a check fails; warnings alone leave it 0."""
    try:
        cfg = load_config(config_path)
    except SecretaryError as exc:
        print_checks([Check("configuration", "fail", str(exc), "fix the key named above")])
        return 1
    checks = await doctor_checks(cfg, str(config_path))
    print_checks(checks)
    print(f"\n{summary(checks)}")
    return exit_code(checks)
