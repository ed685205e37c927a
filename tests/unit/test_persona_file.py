"""Saving a persona from the console: only valid personas reach the disk, the admin's
comments survive a form save, the old file is backed up, and a stale edit is refused."""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from pathlib import Path

import pytest

from ari_app.mind.persona import Personas, load_persona
from ari_app.mind.persona_file import PersonaChanged, PersonaFiles, PersonaInvalid

REPO = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def files(tmp_path: Path) -> PersonaFiles:
    shutil.copy(REPO / "config" / "personas" / "default.yaml", tmp_path / "default.yaml")
    return PersonaFiles(tmp_path, keep_backups=3, clock=Clock())


def comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


def test_form_save_changes_the_value_and_keeps_every_comment(files: PersonaFiles) -> None:
    before = files.read("default")
    assert before.data["hours"]["sat"] == "closed"
    data = copy.deepcopy(before.data)
    data["hours"]["sat"] = "10:00-14:00"
    data["holidays"].append({"date": "2026-05-01", "name": {"ru": "Первое мая",
                                                           "en": "May Day"}})
    after = files.save_data("default", data, before.version)
    assert comments(after.text) == comments(before.text) and comments(before.text)
    changed = [line for line in after.text.splitlines() if line not in before.text.splitlines()]
    assert any("sat:" in line and "10:00-14:00" in line for line in changed), changed
    persona = load_persona(files.path("default"))  # what the app will load
    assert persona.hours.day("sat") is not None
    assert persona.calendar.day(dt.date(2026, 5, 1)).holiday is not None
    assert after.version != before.version and after.data == data


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("hours", "sat"), "25:00-14:00", "hours.sat"),  # a field's own check
        (("staff", 0, "department"), "nowhere", "staff[0].department"),  # the whole persona's
        (("greeting", "en"), None, "greeting.en"),
    ],
)
def test_an_invalid_form_names_the_field_and_writes_nothing(
    files: PersonaFiles, path: tuple[str | int, ...], value: str | None, field: str
) -> None:
    before = files.read("default")
    data = copy.deepcopy(before.data)
    *parents, last = path
    target = data
    for key in parents:
        target = target[key]
    if value is None:
        del target[last]
    else:
        target[last] = value
    with pytest.raises(PersonaInvalid) as caught:
        files.save_data("default", data, before.version)
    assert field in {p.field for p in caught.value.problems}, caught.value.problems
    assert files.read("default").text == before.text
    assert files.backups("default") == []


@pytest.mark.parametrize(
    ("text", "field"),
    [("languages: [ru\n", "yaml"), ("- a list\n", ""), ("languages: [ru]\n", "company")],
)
def test_an_invalid_yaml_text_is_refused(files: PersonaFiles, text: str, field: str) -> None:
    before = files.read("default")
    with pytest.raises(PersonaInvalid) as caught:
        files.save_text("default", text, before.version)
    assert field in {p.field for p in caught.value.problems}
    assert files.read("default").text == before.text


def test_yaml_save_writes_the_text_as_given_and_backs_up(files: PersonaFiles) -> None:
    before = files.read("default")
    text = before.text.replace('sat: closed', 'sat: "11:00-15:00"') + "# the admin's note\n"
    assert text != before.text
    after = files.save_text("default", text, before.version)
    assert files.path("default").read_text(encoding="utf-8") == text == after.text
    (backup,) = files.backups("default")
    assert backup.read_text(encoding="utf-8") == before.text


def test_a_stale_version_is_refused(files: PersonaFiles) -> None:
    first = files.read("default")
    files.save_text("default", first.text + "# one\n", first.version)
    with pytest.raises(PersonaChanged):
        files.save_text("default", first.text + "# two\n", first.version)
    assert files.read("default").text.endswith("# one\n")


def test_backups_are_pruned_to_the_newest(files: PersonaFiles) -> None:
    for i in range(5):
        doc = files.read("default")
        files.save_text("default", doc.text + f"# save {i}\n", doc.version)
    kept = files.backups("default")
    assert len(kept) == 3
    assert kept[-1].read_text(encoding="utf-8").endswith("# save 3\n")


def test_the_running_app_serves_the_saved_persona(files: PersonaFiles) -> None:
    personas = Personas(files.directory)
    assert personas("default").hours.day("sat") is None
    doc = files.read("default")
    data = copy.deepcopy(doc.data)
    data["hours"]["sat"] = "10:00-14:00"
    files.save_data("default", data, doc.version)
    assert personas("default").hours.day("sat") is not None


def test_new_values_that_yaml_would_misread_are_quoted(files: PersonaFiles) -> None:
    doc = files.read("default")
    data = copy.deepcopy(doc.data)
    data["company"]["en"] = "yes"  # plain `yes` would be read back as true
    data["secretary_name"]["en"] = "12:30"  # plain, YAML 1.1 reads a number
    after = files.save_data("default", data, doc.version)
    assert after.data["company"]["en"] == "yes"
    assert after.data["secretary_name"]["en"] == "12:30"


def test_names_lists_the_personas_only(files: PersonaFiles) -> None:
    doc = files.read("default")
    files.save_text("default", doc.text + "#\n", doc.version)  # makes .backups/
    (files.directory / "notes.txt").write_text("x")
    assert files.names() == ["default"]
