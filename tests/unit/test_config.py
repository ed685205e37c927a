"""Config loading: the valid files, each kind of error naming file and key, env, paths."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ari_app.config import Config, load_config
from ari_app.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = {"ari": {"password": "pw"}}


def write(tmp_path: Path, data: object, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env or {})
    message = str(info.value)
    assert message.startswith(str(path)), message
    return message


def test_testbed_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    cfg = load_config(Path("config/testbed.yaml"), env={})
    assert cfg.ari.url == "http://127.0.0.1:8088"
    assert (cfg.ari.username, cfg.ari.password, cfg.ari.app) == (
        "secretary",
        "testbed-secret",
        "secretary",
    )
    assert cfg.tts.voices["ru"].engine == "rhvoice" and cfg.tts.voices["ru"].voice == "anna"
    assert cfg.tts.voices["en"].engine == "piper"
    assert cfg.tts.voices["en"].voice == "en_US-joe-medium"
    assert cfg.tts.fallback["ru"].engine == "espeak"
    assert cfg.storage.database == ROOT / "var" / "calls.sqlite3"
    assert cfg.storage.recordings_dir == ROOT / "var" / "recordings"
    assert (cfg.paths.personas_dir / f"{cfg.persona_for(None)}.yaml").is_file()
    assert cfg.persona_path(None) == ROOT / "config" / "personas" / "default.yaml"


def test_example_config_needs_env_password() -> None:
    path = ROOT / "config" / "secretary.example.yaml"
    assert "ari.password: field required" in error_of(path)
    cfg = load_config(path, env={"SECRETARY_ARI_PASSWORD": "s3cret"})
    assert cfg.ari.password == "s3cret"
    assert cfg.language_for("sales-en") == "en"
    assert "s3cret" not in repr(cfg)


def test_defaults_and_frozen(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL), env={})
    assert cfg.media.transport == "rtp" and cfg.media.codec == "ulaw"
    assert cfg.turn.end_silence_ms == 600
    assert cfg.default_language == "ru"
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error
        cfg.persona = "other"


def test_missing_password_names_key(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, {"media": {"transport": "rtp"}}))
    assert f"{tmp_path / 'c.yaml'}: ari.password: field required" in message


def test_env_password_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    assert load_config(path, env={"SECRETARY_ARI_PASSWORD": "from-env"}).ari.password == "from-env"
    assert load_config(path, env={}).ari.password == "pw"
    # and it can be the only source
    assert (
        load_config(write(tmp_path, {}, "e.yaml"), env={"SECRETARY_ARI_PASSWORD": "x"}) is not None
    )


def test_bad_literal_names_key(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, {**MINIMAL, "media": {"transport": "sip"}}))
    assert "media.transport: input should be 'rtp' or 'websocket'" in message


def test_unknown_key_names_key(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, {**MINIMAL, "turn": {"end_silence": 500}}))
    assert "turn.end_silence: unknown key" in message
    message = error_of(write(tmp_path, {**MINIMAL, "colour": "red"}, "t.yaml"))
    assert "colour: unknown key" in message


def test_a_retired_setting_loads_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, {**MINIMAL, "turn": {"energy_threshold_dbfs": -45, "vad": "energy"}})
    cfg = load_config(path, env={})
    assert cfg.turn.vad == "energy"
    (record,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert record.getMessage().startswith(
        f"{path}: turn.energy_threshold_dbfs is no longer a setting"
    )
    assert "delete the line" in record.getMessage()
    # anything else unknown in the section is still an error
    message = error_of(write(tmp_path, {**MINIMAL, "turn": {"energy_threshold_dbfs": -45,
                                                            "end_silence": 1}}, "x.yaml"))
    assert "turn.end_silence: unknown key" in message


def test_wrong_type_names_key(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, {"ari": {"password": "p", "connect_retries": "many"}}))
    assert "ari.connect_retries: input should be a valid integer" in message


def test_nested_voice_error_names_key(tmp_path: Path) -> None:
    data = {**MINIMAL, "tts": {"voices": {"ru": {"engine": "marytts", "voice": "x"}}}}
    message = error_of(write(tmp_path, data))
    assert "tts.voices.ru.engine:" in message


def test_language_without_voice(tmp_path: Path) -> None:
    data = {**MINIMAL, "lines": {"de-line": {"language": "de"}}}
    message = error_of(write(tmp_path, data))
    assert "no voice for language 'de'" in message and "lines.de-line.language" in message
    data = {**MINIMAL, "default_language": "fr"}
    assert "default_language" in error_of(write(tmp_path, data, "f.yaml"))


def test_several_errors_all_reported(tmp_path: Path) -> None:
    data = {"ari": {"url": "ftp://x"}, "media": {"codec": "opus"}}
    message = error_of(write(tmp_path, data))
    assert "ari.url:" in message and "ari.password: field required" in message
    assert "media.codec: input should be 'ulaw' or 'alaw'" in message


def test_yaml_syntax_error(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "ari: {password: [unclosed\n"))
    assert "invalid YAML" in message and "line " in message


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just a string\n"])
def test_non_mapping_file(tmp_path: Path, text: str) -> None:
    assert "mapping" in error_of(write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    assert "cannot read" in error_of(tmp_path / "nope.yaml")


def test_relative_paths_resolve_against_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = {
        **MINIMAL,
        "storage": {"database": "db/calls.sqlite3", "recordings_dir": "/abs/rec"},
        "paths": {"models_dir": "m", "personas_dir": "p"},
    }
    path = write(tmp_path, data)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    cfg = load_config(path, env={})
    assert cfg.storage.database == workdir / "db" / "calls.sqlite3"
    assert cfg.storage.recordings_dir == Path("/abs/rec")
    assert cfg.paths.models_dir == workdir / "m"
    assert cfg.paths.personas_dir.is_absolute()


def test_lines_language_and_persona(tmp_path: Path) -> None:
    data = {**MINIMAL, "lines": {"en": {"language": "en", "persona": "english"}, "x": {}}}
    cfg: Config = load_config(write(tmp_path, data), env={})
    assert cfg.language_for("en") == "en"
    assert cfg.language_for("x") == "ru"
    assert cfg.language_for(None) == "ru"
    assert cfg.language_for("unknown-line") == "ru"
    assert cfg.persona_for("en") == "english"
    assert cfg.persona_for("x") == "default"


def test_a_line_has_its_own_voice(tmp_path: Path) -> None:
    data = {**MINIMAL, "lines": {"sales": {"language": "en",
                                           "voice": {"engine": "espeak", "voice": "en-us"}},
                                 "support": {}}}
    cfg: Config = load_config(write(tmp_path, data), env={})
    assert cfg.lines["sales"].voice is not None
    assert (cfg.lines["sales"].voice.engine, cfg.lines["sales"].voice.voice) == ("espeak",
                                                                                 "en-us")
    assert cfg.lines["support"].voice is None


@pytest.mark.parametrize("voice, key", [
    ({"engine": "telepathy", "voice": "x"}, "lines.sales.voice.engine:"),
    ({"engine": "espeak", "voice": ""}, "lines.sales.voice.voice:"),
    ({"engine": "espeak"}, "lines.sales.voice.voice: field required"),
    ({"engine": "espeak", "voice": "en", "pitch": 3}, "lines.sales.voice.pitch:"),
])
def test_a_bad_line_voice_is_named(tmp_path: Path, voice: dict[str, object], key: str) -> None:
    data = {**MINIMAL, "lines": {"sales": {"language": "en", "voice": voice}}}
    assert key in error_of(write(tmp_path, data))
