"""`secretary doctor`: checks what a call needs and says in plain words what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ari_app.errors import SecretaryError


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


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
        checks.append(Check("Asterisk ARI reachable", True, f"{a.url}, Asterisk {version}"))
        checks.append(Check("ARI credentials", True, f"user '{a.username}' accepted"))
        rival = await InstanceLease(client, a.app).rival()
        if rival is None:
            checks.append(Check("ARI app name free", True, f"no secretary holds '{a.app}'"))
        else:
            checks.append(Check(
                "ARI app name free", False,
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
        checks.append(Check(name, False, str(exc), fix))
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
        vosk_check = Check(f"vosk:{model}", problem is None, problem or str(vosk_dir),
                           vosk_fix(vosk_dir) if problem else "")
        statuses = check_models(cfg.paths.models_dir)[1:]  # the TTS voices; no Whisper
        return [vosk_check, *(Check(m.name, m.ok, m.detail, m.fix) for m in statuses)]
    return [
        Check(m.name, m.ok, m.detail, m.fix)
        for m in check_models(cfg.paths.models_dir, whisper_name=cfg.stt.model)
    ]


def print_checks(checks: list[Check]) -> None:
    width = max(len(c.name) for c in checks)
    for c in checks:
        mark = "ok  " if c.ok else "FAIL"
        print(f"{mark}  {c.name.ljust(width)}  {c.detail}")
        if not c.ok and c.fix:
            print(f"      {' ' * width}  -> {c.fix}")


async def run_doctor(config_path: Path) -> int:
    from ari_app.config import load_config

    try:
        cfg = load_config(config_path)
    except SecretaryError as exc:
        print_checks([Check("configuration", False, str(exc), "fix the key named above")])
        return 1
    checks = [Check("configuration", True, str(config_path))]
    checks += await _ari_checks(cfg)
    checks += _model_checks(cfg)
    print_checks(checks)
    failed = [c for c in checks if not c.ok]
    print(f"\n{len(failed)} problem(s) found." if failed else "\nAll checks passed.")
    return 1 if failed else 0
