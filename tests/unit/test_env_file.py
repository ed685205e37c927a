"""Secrets from a .env file (ari_app/cli/env_file.py), on real files in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ari_app.cli.env_file import load_env_file, read_env_file
from ari_app.cli.main import main
from ari_app.errors import ConfigError


def test_names_values_quotes_comments_and_export(tmp_path: Path) -> None:
    env_file = tmp_path / "secretary.env"
    env_file.write_text(
        "# keys for the language models\n"
        "OPENAI_API_KEY=sk-test-1\n"
        "\n"
        "export GEMINI_API_KEY='ab cd'\n"
        'SECRETARY_ARI_PASSWORD="p$ss#word"  # the ARI user\n'
        "DEEPSEEK_API_KEY=x$HOME\n",
        encoding="utf-8",
    )
    assert read_env_file(env_file) == {
        "OPENAI_API_KEY": "sk-test-1",
        "GEMINI_API_KEY": "ab cd",
        "SECRETARY_ARI_PASSWORD": "p$ss#word",
        "DEEPSEEK_API_KEY": "x$HOME",  # taken as written, not expanded
    }


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A_KEY=from-file\nB_KEY=from-file\n", encoding="utf-8")
    environ = {"A_KEY": "from-environment"}
    assert load_env_file(environ, cwd=tmp_path) == tmp_path / ".env"
    assert environ == {"A_KEY": "from-environment", "B_KEY": "from-file"}


def test_no_file_is_no_error(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    assert load_env_file(environ, cwd=tmp_path) is None
    assert environ == {}


def test_a_named_file_must_exist(tmp_path: Path) -> None:
    environ = {"SECRETARY_ENV_FILE": str(tmp_path / "missing.env")}
    with pytest.raises(ConfigError, match=r"SECRETARY_ENV_FILE=.*no such file"):
        load_env_file(environ, cwd=tmp_path)


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("GOOD=1\nthis is not a setting\n", 2, "not NAME=value"),
        ("GOOD=1\n# note\nLONELY_NAME\n", 3, "LONELY_NAME has no '='"),
        ("A='unclosed\n", 1, "not NAME=value"),
    ],
)
def test_a_bad_line_is_named(tmp_path: Path, text: str, line: int, says: str) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_env_file(env_file)
    assert f"line {line}:" in str(caught.value)
    assert says in str(caught.value)
    assert str(env_file) in str(caught.value)


def test_the_cli_refuses_a_bad_env_file_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.env").write_text("OPENAI_API_KEY sk-no-equals-sign\n", encoding="utf-8")
    monkeypatch.setenv("SECRETARY_ENV_FILE", str(tmp_path / "bad.env"))
    assert main(["calls", "-c", str(tmp_path / "absent.yaml")]) == 2
    err = capsys.readouterr().err
    assert "bad.env, line 1:" in err
