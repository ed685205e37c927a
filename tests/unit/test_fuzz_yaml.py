"""Fuzzing the YAML files admins edit: the config (`load_config`), personas (`load_persona`)
and the LLM secrets file. Any file loads, or is a ConfigError whose every line names the
file and then what is wrong (the key, or the line and column); never a raw ValueError,
KeyError or RecursionError out of PyYAML or a validator."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ari_app.config import load_config
from ari_app.errors import ConfigError
from ari_app.llm.secrets import load_secrets_file
from ari_app.mind.persona import load_persona
from ari_app.yaml_file import MAX_DEPTH, read_yaml
from testkit.fuzz import FUZZ, YAML_VALUES, mutated

ROOT = Path(__file__).resolve().parents[2]
CONFIG_TEXT = (ROOT / "config" / "testbed.yaml").read_text(encoding="utf-8")
PERSONA_TEXT = (ROOT / "config" / "personas" / "default.yaml").read_text(encoding="utf-8")
CONFIG = yaml.safe_load(CONFIG_TEXT)
PERSONA = yaml.safe_load(PERSONA_TEXT)

# What YAML recognises and Python cannot always build, and YAML's own odd corners.
TRAPS = [
    "2024-02-30",  # a date that does not exist (holidays): was a raw ValueError
    "2024-01-01 25:00:00",
    "!!int x", "!!float x",  # ValueError
    "!!int +", "!!bool maybe", "!!timestamp x",  # IndexError, KeyError, AttributeError
    "!!binary é", "!!python/object:os.system", "!!set 5",
    "9" * 5000, "0x" + "f" * 4000,  # over Python's 4300-digit limit
    "[" * 5000, "{a: " * 200,  # deeper than the recursion limit
    "&a [*a]", "*nowhere", "{<<: 5}", "{a: 1, a: 2}", "\t- x", "|\n x", "--- a\n--- b",
    ".nan", "-.inf", "~", "", "'", '"\\x"', "? [a]\n: b", "%TAG ! x\n", "\x00", "\u2028",
]


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def check(load: Callable[[Path], Any], path: Path, data: str | bytes) -> str | None:
    """The property: the file loads (None), or a ConfigError whose every line is
    "<file>: <what is wrong>" (its message)."""
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    try:
        load(path)
    except ConfigError as exc:
        for line in str(exc).splitlines():
            assert line.startswith(f"{path}: ") and line[len(f"{path}: "):].strip(), str(exc)
        return str(exc)
    return None


def load_config_file(path: Path) -> Any:
    return load_config(path, env={})


def dump(doc: Any) -> str:
    return yaml.dump(doc, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)


@st.composite
def spliced(draw: st.DrawFn, text: str) -> str:
    """`text` with a value replaced by a trap or random text, or a piece cut out or
    inserted at random."""
    lines = text.splitlines()
    i = draw(st.integers(0, len(lines) - 1))
    junk = draw(st.sampled_from(TRAPS) | st.text(max_size=20))
    action = draw(st.sampled_from(["value", "insert", "cut"]))
    if action == "value" and ": " in lines[i]:
        lines[i] = lines[i].split(": ", 1)[0] + ": " + junk
    elif action == "insert":
        at = draw(st.integers(0, len(lines[i])))
        lines[i] = lines[i][:at] + junk + lines[i][at:]
    else:
        del lines[i : i + draw(st.integers(1, 5))]
    return "\n".join(lines) + "\n"


def names_a_change(message: str, changed: list[tuple[Any, ...]]) -> bool:
    """The error points at the one change: its top-level key is in the message (quoted
    when it is not plain text)."""
    top = changed[0][0]
    return str(top) in message or repr(top) in message


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200))
@example(b"\xff\xfe")
@example("a: b: c")
@example("\x1f")  # PyYAML's message for it was two lines, the second without the file
def test_config_any_file_loads_or_is_a_config_error(folder: Path, data: str | bytes) -> None:
    check(load_config_file, folder / "any.yaml", data)


@FUZZ
@given(spliced(CONFIG_TEXT))
@example(CONFIG_TEXT.replace("end_silence_ms: 600", "end_silence_ms: !!int x"))
@example(CONFIG_TEXT.replace("connect_retries: 5", "connect_retries: " + "9" * 5000))
@example(CONFIG_TEXT.replace("codec: ulaw", "codec: " + "[" * 5000))
@example(CONFIG_TEXT.replace("frozen_time: ", "frozen_time: 2026-02-30 11:00:00 #"))
def test_config_with_a_bad_line_loads_or_is_a_config_error(folder: Path, text: str) -> None:
    check(load_config_file, folder / "spliced.yaml", text)


@FUZZ
@given(mutated(CONFIG, YAML_VALUES))
@example(({**CONFIG, "ari": {"": None}}, [("ari", "")]))  # "c.yaml: : unknown key"
@example(({**CONFIG, "ari": {"\r": None}}, [("ari", "\r")]))  # the line split in two
def test_config_with_bad_values_is_a_config_error_naming_the_key(
    folder: Path, broken: tuple[dict[str, Any], list[tuple[Any, ...]]]
) -> None:
    doc, changed = broken
    error = check(load_config_file, folder / "mutated.yaml", dump(doc))
    if error is not None and len(changed) == 1:
        assert names_a_change(error, changed), (error, changed)


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200))
@example("\x1f")
def test_persona_any_file_loads_or_is_a_config_error(folder: Path, data: str | bytes) -> None:
    check(load_persona, folder / "any-persona.yaml", data)


@settings(FUZZ, max_examples=100)  # a persona takes ~25 ms to load
@given(spliced(PERSONA_TEXT))
@example(PERSONA_TEXT.replace("- date: 2026-02-23", "- date: 2026-02-30"))  # ValueError
@example(PERSONA_TEXT.replace("time_zone: Europe/Moscow", "time_zone: Europe"))  # OSError
@example(PERSONA_TEXT.replace("time_zone: Europe/Moscow", "time_zone: " + "x" * 300))
def test_persona_with_a_bad_line_loads_or_is_a_config_error(folder: Path, text: str) -> None:
    check(load_persona, folder / "spliced-persona.yaml", text)


@settings(FUZZ, max_examples=100)
@given(mutated(PERSONA, YAML_VALUES))
def test_persona_with_bad_values_is_a_config_error_naming_the_key(
    folder: Path, broken: tuple[dict[str, Any], list[tuple[Any, ...]]]
) -> None:
    doc, changed = broken
    error = check(load_persona, folder / "mutated-persona.yaml", dump(doc))
    if error is not None and len(changed) == 1:
        assert names_a_change(error, changed), (error, changed)


@FUZZ
@given(st.binary(max_size=200) | st.sampled_from(TRAPS).map(lambda trap: f"openai: {trap}\n"))
def test_secrets_file_any_file_loads_or_is_a_config_error(folder: Path, data: bytes | str) -> None:
    path = folder / "secrets.yaml"
    path.touch(mode=0o600)
    os.chmod(path, 0o600)
    check(load_secrets_file, path, data)


def test_nesting_is_refused_at_its_line_before_the_recursion_limit(folder: Path) -> None:
    path = folder / "deep.yaml"
    levels = MAX_DEPTH + 1  # under the top-level mapping: one too many
    path.write_text("persona: " + "[" * levels + "]" * levels + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"line 1 column .*: nested more than {MAX_DEPTH}"):
        load_config_file(path)
    levels = MAX_DEPTH - 2  # as deep as may be
    path.write_text("persona: " + "[" * levels + "]" * levels + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="persona: input should be a valid string"):
        load_config_file(path)


def test_an_impossible_date_names_its_line(folder: Path) -> None:
    path = folder / "date.yaml"
    path.write_text(PERSONA_TEXT.replace("- date: 2026-02-23", "- date: 2026-02-30"),
                    encoding="utf-8")
    line = PERSONA_TEXT.splitlines().index("  - date: 2026-02-23") + 1
    with pytest.raises(ConfigError, match=rf"line {line} column 11: '2026-02-30' is not a "
                       r"valid timestamp \(day is out of range for month\)"):
        load_persona(path)


def test_a_key_given_twice_is_an_error_naming_both_lines(folder: Path) -> None:
    """An admin who adds a second `language:` under a line must not have one of the two
    silently win; a merge (`<<:`) may still be overridden, as YAML means it."""
    twice = CONFIG_TEXT.replace("end_silence_ms: 600", "end_silence_ms: 600\n  end_silence_ms: 900")
    assert twice != CONFIG_TEXT
    path = folder / "twice.yaml"
    path.write_text(twice, encoding="utf-8")
    first = twice.splitlines().index("  end_silence_ms: 600") + 1
    with pytest.raises(ConfigError, match=rf"{path}: invalid YAML: line {first + 1} column 3: "
                       rf"duplicate key 'end_silence_ms' \(first at line {first}\)"):
        load_config(path)
    merged = "base: &b {codec: ulaw}\nline:\n  <<: *b\n  codec: alaw\n"
    path.write_text(merged, encoding="utf-8")
    assert read_yaml(path) == {"base": {"codec": "ulaw"}, "line": {"codec": "alaw"}}
