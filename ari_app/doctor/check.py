"""`secretary doctor`: checks what a call needs and says in plain words what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from ari_app.errors import SecretaryError

# ok; warn: works, but something is missing or off (exit 0); fail: calls will suffer (exit 1)
Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""

    @classmethod
    def of(cls, name: str, ok: bool, detail: str, fix: str = "") -> Check:
        return cls(name, "ok" if ok else "fail", detail, fix)


async def _ari_checks(cfg: object) -> list[Check]:
    from ari_app.ari.client import AriClient
    from ari_app.config import Config
    from ari_app.instance_lease import InstanceLease

    assert isinstance(cfg, Config)
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


def _model_checks(cfg: object) -> list[Check]:
    from ari_app.config import Config
    from ari_app.models import check_models

    assert isinstance(cfg, Config)
    if cfg.stt.engine == "vosk":
        from ari_app.stt.vosk import packaged_vosk_model, vosk_dir_problem, vosk_fix

        model = cfg.stt.model
        try:
            vosk_dir = (packaged_vosk_model(model.removeprefix("packaged:"))
                        if model.startswith("packaged:") else cfg.paths.models_dir / model)
            problem = vosk_dir_problem(vosk_dir)
        except SecretaryError as exc:
            vosk_dir, problem = cfg.paths.models_dir / model, str(exc)
        vosk_check = Check.of(f"vosk:{model}", problem is None, problem or str(vosk_dir),
                              vosk_fix(vosk_dir) if problem else "")
        statuses = check_models(cfg.paths.models_dir)[1:]  # the TTS voices; no Whisper
        return [vosk_check, *(Check.of(m.name, m.ok, m.detail, m.fix) for m in statuses)]
    return [
        Check.of(m.name, m.ok, m.detail, m.fix)
        for m in check_models(cfg.paths.models_dir, whisper_name=cfg.stt.model)
    ]


async def _pbx_checks(cfg: object) -> list[Check]:
    """Asterisk's own view over AMI (doctor/pbx.py), when the config has an ami: section."""
    from ari_app.ari.ami import AmiConfig, AmiError, AmiSession, ami_password
    from ari_app.config import Config
    from ari_app.doctor.pbx import Expect, pbx_checks

    assert isinstance(cfg, Config)
    ami = cfg.ami  # read like this until Config has its `ami` field
    if ami is None:
        return [Check(
            "PBX checks (AMI)", "warn",
            "skipped: no ami: section in the config (channel drivers, modem, trunks, dialplan)",
            "add ami: (config/secretary.example.yaml) and its user (asterisk/etc/manager.conf)",
        )]
    assert isinstance(ami, AmiConfig)
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


async def run_doctor(config_path: Path) -> int:
    """Exit status 1 when a check fails; warnings alone leave it 0."""
    from ari_app.config import load_config

    try:
        cfg = load_config(config_path)
    except SecretaryError as exc:
        print_checks([Check("configuration", "fail", str(exc), "fix the key named above")])
        return 1
    checks = [Check("configuration", "ok", str(config_path))]
    checks += await _ari_checks(cfg)
    checks += await _pbx_checks(cfg)
    checks += _model_checks(cfg)
    print_checks(checks)
    print(f"\n{summary(checks)}")
    return 1 if any(c.status == "fail" for c in checks) else 0
