"""The config the test modules start the app with (testkit/local.write_config): storage in
the test's folder, and, where a module asks, personas that greet with a short greeting and
are otherwise the ones it would have used."""

from __future__ import annotations

from pathlib import Path

import yaml

from ari_app.config import load_config
from testkit.local import REPO, SHORT_GREETING, write_config


def personas_of(config: Path) -> Path:
    return Path(yaml.safe_load(config.read_text())["paths"]["personas_dir"])


def test_the_short_greeting_replaces_only_the_greeting(tmp_path: Path) -> None:
    config = write_config(tmp_path, greeting=SHORT_GREETING)
    cfg = load_config(config)  # still a valid config
    persona = yaml.safe_load(cfg.persona_path(None).read_text())
    shipped = yaml.safe_load((REPO / "config" / "personas" / "default.yaml").read_text())
    assert persona["greeting"] == SHORT_GREETING != shipped["greeting"]
    assert {k: v for k, v in persona.items() if k != "greeting"} == {
        k: v for k, v in shipped.items() if k != "greeting"}


def test_the_greeting_goes_into_the_personas_the_overrides_name(tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / "default.yaml").write_text(
        (REPO / "config" / "personas" / "default.yaml").read_text().replace(
            "  mode: attended\n", "  mode: blind\n"))
    config = write_config(tmp_path, {"paths": {"personas_dir": str(own)}}, SHORT_GREETING)
    persona = yaml.safe_load((personas_of(config) / "default.yaml").read_text())
    assert persona["greeting"] == SHORT_GREETING
    assert "mode: blind" in yaml.safe_dump(persona, allow_unicode=True)


def test_without_a_greeting_the_shipped_personas_are_used(tmp_path: Path) -> None:
    assert personas_of(write_config(tmp_path)) == REPO / "config" / "personas"
