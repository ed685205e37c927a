"""Persona loading: the default file, validation errors naming file and key, reload on
change, the hours sentence and the fact sheet for the LLM path."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from ari_app.errors import ConfigError
from ari_app.mind.fact_sheet import fact_sheet
from ari_app.mind.persona import Persona, Personas, load_persona, time_words

PERSONA_PATH = Path(__file__).resolve().parents[2] / "config" / "personas" / "default.yaml"
MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture(scope="module")
def persona() -> Persona:
    return load_persona(PERSONA_PATH)


def default_data() -> dict[str, Any]:
    data = yaml.safe_load(PERSONA_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_default_persona(persona: Persona) -> None:
    assert persona.company == {"ru": "Ромашка", "en": "Romashka"}
    assert persona.secretary_name == {"ru": "Анна", "en": "Anna"}
    assert persona.languages == ["ru", "en"]
    assert "Ромашка" in persona.text("greeting", "ru")
    assert "Romashka" in persona.text("greeting", "en")
    assert persona.tz == ZoneInfo("Europe/Moscow")
    assert {m.id for m in persona.staff} == {"petrov", "smirnova", "kuznetsov"}


def test_hours_sentence(persona: Persona) -> None:
    assert persona.hours_sentence("ru") == (
        "с понедельника по четверг с девяти до восемнадцати, "
        "в пятницу с девяти до семнадцати, в субботу и воскресенье выходной"
    )
    en = persona.hours_sentence("en")
    assert en.startswith("Monday to Thursday from nine a.m. to six p.m.")
    assert "Saturday and Sunday closed" in en
    assert not re.search(r"\d", en)


@pytest.mark.parametrize(
    ("hour", "minute", "lang", "words"),
    [
        (9, 0, "ru", "девяти"),
        (18, 0, "ru", "восемнадцати"),
        (21, 0, "ru", "двадцати одного"),
        (8, 30, "ru", "восьми тридцати"),
        (0, 0, "ru", "полуночи"),
        (9, 0, "en", "nine a.m."),
        (18, 0, "en", "six p.m."),
        (12, 0, "en", "noon"),
        (0, 0, "en", "midnight"),
        (13, 30, "en", "one thirty p.m."),
    ],
)
def test_time_words(hour: int, minute: int, lang: str, words: str) -> None:
    assert time_words(hour, minute, lang) == words


def test_time_words_whole_range() -> None:
    for hour in range(24):
        for minute in (0, 30):
            for lang in ("ru", "en"):
                for case in ("gen", "acc"):
                    assert not re.search(r"\d", time_words(hour, minute, lang, case))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        time_words(9, 15, "ru")
    assert time_words(9, 0, "ru", "acc") == "девять"
    assert time_words(1, 0, "ru", "acc") == "час"


def test_other_hours_layout(tmp_path: Path) -> None:
    data = default_data()
    data["hours"] = {
        "mon": "closed", "tue": "10:00-19:30", "wed": "10:00-19:30", "thu": "closed",
        "fri": "08:00-12:00", "sat": "08:00-12:00", "sun": "closed",
    }  # fmt: skip
    p = load_persona(write(tmp_path / "p.yaml", data))
    assert p.hours_sentence("ru") == (
        "в понедельник выходной, во вторник и среду с десяти до девятнадцати тридцати, "
        "в четверг выходной, в пятницу и субботу с восьми до двенадцати, в воскресенье выходной"
    )
    assert "Tuesday and Wednesday from ten a.m. to seven thirty p.m." in p.hours_sentence("en")


def _staff(d: dict[str, Any], i: int) -> dict[str, Any]:
    member: dict[str, Any] = d["staff"][i]
    return member


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d["hours"].update(fri="9-17"), "hours.fri"),
        (lambda d: d["hours"].update(fri="18:00-09:00"), "hours.fri"),
        (lambda d: d["hours"].pop("sun"), "hours.sun: field required"),
        (lambda d: d["goodbye"].pop("en"), "goodbye.en: missing"),
        (lambda d: d.update(slogan="x"), "slogan: unknown key"),
        (lambda d: d["hours_reply"].update(ru="Мы работаем."), "hours_reply.ru"),
        (lambda d: d.update(languages=["ru", "de"]), "languages"),
        (lambda d: d.update(time_zone="Mars/Olympus"), "time_zone: unknown time zone"),
        (lambda d: _staff(d, 1)["role"].pop("en"), "staff[1].role.en: missing"),
        (lambda d: _staff(d, 0).update(department="marketing"), "staff[0].department"),
        (lambda d: _staff(d, 2).update(id="petrov"), "staff[2].id: 'petrov' is used twice"),
        (lambda d: _staff(d, 0).update(extension="2O1"), "staff[0].extension"),
        (lambda d: d["faq"][0]["answer"].pop("ru"), "faq[0].answer.ru: missing"),
        (lambda d: d["services"][1]["price"].update(currency="BTC"), "services[1].price.currency"),
        (lambda d: d["services"][1]["price"].update(amount=-5), "services[1].price.amount"),
        (lambda d: d["holidays"][0].update(until="2025-12-01"),
         "holidays[0]: until: must not be before date"),
        (lambda d: d["short_days"][0].update(hours="closed"),
         "short_days[0].hours: a short day needs its hours"),
        (lambda d: d["departments"]["sales"]["name"].pop("en"),
         "departments.sales.name.en: missing"),
        (lambda d: d["transfer"].update(allow=["sales", "nobody"]), "transfer.allow[1]"),
        (lambda d: d["transfer"].update(mode="warm"), "transfer.mode"),
        (lambda d: d["transfer"].update(general="nobody"), "transfer.general"),
        (lambda d: d["tone"].update(formality="rude"), "tone.formality"),
        (lambda d: d.update(phrases={"ask_name": {"ru": "Имя, {who}?"}}),
         "phrases.ask_name.ru: unknown placeholder {who}"),
        (lambda d: d.update(phrases={"sing": {"ru": "ля-ля"}}), "phrases.sing: unknown phrase"),
        (lambda d: d["greeting"].update(de="Hallo"), "greeting.de: not one of the persona's"),
    ],
)
def test_persona_errors_name_file_and_key(
    tmp_path: Path, change: Callable[[dict[str, Any]], object], key: str
) -> None:
    data = default_data()
    change(data)
    path = write(tmp_path / "bad.yaml", data)
    with pytest.raises(ConfigError) as info:
        load_persona(path)
    message = str(info.value)
    assert all(line.startswith(f"{path}: ") for line in message.splitlines()), message
    assert key in message, message


def test_several_problems_each_on_its_own_line(tmp_path: Path) -> None:
    data = default_data()
    data["goodbye"].pop("en")
    data["staff"][0]["role"].pop("ru")
    path = write(tmp_path / "bad.yaml", data)
    with pytest.raises(ConfigError) as info:
        load_persona(path)
    lines = str(info.value).splitlines()
    assert [line.split(": ")[1] for line in lines] == ["goodbye.en", "staff[0].role.ru"]


def test_yaml_and_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("company: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml: invalid YAML: line"):
        load_persona(bad)
    with pytest.raises(ConfigError, match="cannot read persona"):
        load_persona(tmp_path / "absent.yaml")


def test_personas_reload_on_change(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = default_data()
    path = write(tmp_path / "shop.yaml", data)
    personas = Personas(tmp_path)
    first = personas("shop")
    assert personas("shop") is first  # unchanged file: the same object

    data["company"] = {"ru": "Василёк", "en": "Vasilyok"}
    write(path, data)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = personas("shop")
    assert second is not first and second.company["en"] == "Vasilyok"

    # a broken edit keeps the last good persona serving, and says why in the log
    path.write_text("company: [unclosed\n", encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000))
    assert personas("shop") is second
    assert "invalid YAML" in caplog.text

    # fixed again: picked up
    data["company"] = {"ru": "Лютик", "en": "Lyutik"}
    write(path, data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 3_000_000))
    assert personas("shop").company["ru"] == "Лютик"


def test_personas_see_a_replaced_file_of_the_same_size_and_time(tmp_path: Path) -> None:
    """A save that renames a new file over the old one is seen even when the size and the
    time stamp are the same (a coarse file system clock, an edit of one letter)."""
    data = default_data()
    data["company"] = {"ru": "Ромашка", "en": "Romashka"}
    path = write(tmp_path / "shop.yaml", data)
    personas = Personas(tmp_path)
    assert personas("shop").company["en"] == "Romashka"
    stat = path.stat()
    data["company"] = {"ru": "Ромашка", "en": "Romaschk"}  # as many bytes
    fresh = write(tmp_path / "shop.yaml.new", data)
    os.utime(fresh, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    fresh.replace(path)
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
    assert personas("shop").company["en"] == "Romaschk"


def test_personas_errors(tmp_path: Path) -> None:
    personas = Personas(tmp_path)
    with pytest.raises(ConfigError, match="cannot read persona"):
        personas("absent")
    with pytest.raises(ConfigError, match="only letters"):
        personas("../etc/passwd")
    (tmp_path / "broken.yaml").write_text("languages: [ru]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.yaml: company: field required"):
        personas("broken")


def test_facts_text(persona: Persona) -> None:
    at = dt.datetime(2026, 4, 29, 11, 0, tzinfo=MSK)
    ru = fact_sheet(persona, "ru", at)
    assert "Компания: Ромашка" in ru
    assert "Адрес: Москва, улица Садовая" in ru
    assert "Сейчас: среда 2026-04-29 11:00" in ru
    assert "Да, сейчас мы открыты, работаем до восемнадцати." in ru
    assert "Часы работы: с понедельника по четверг с девяти до восемнадцати" in ru
    assert "2026-05-01 (первое мая): Праздник весны и труда" in ru
    assert "доставка по Москве: пятьсот рублей за заказ" in ru
    assert "Оплатить можно картой" in ru
    assert "[kuznetsov] Олег Кузнецов; директор" in ru and "только сообщение" in ru
    assert "[accounting] бухгалтерия; часы: с понедельника по четверг с десяти" in ru
    assert not re.search(r"\b20[123]\b", ru)  # extensions are not for callers

    en = fact_sheet(persona, "en", dt.datetime(2026, 5, 1, 12, 0, tzinfo=MSK))
    assert "Company: Romashka" in en
    assert "Today, May first, we are closed for Labour Day." in en
    assert "We open on Monday at nine a.m." in en
    assert "[petrov] Ivan Petrov; sales manager; department: the sales department" in en
    past = [line for line in en.splitlines() if "2026-02-23" in line]
    assert past == []  # only holidays still ahead


def test_private_numbers_stay_private(tmp_path: Path) -> None:
    data = default_data()
    data["staff"][0]["number"] = "+74950001122"
    p = load_persona(write(tmp_path / "p.yaml", data))
    assert "74950001122" not in fact_sheet(p, "en", dt.datetime(2026, 4, 29, 11, tzinfo=MSK))
    assert "74950001122" not in repr(p.staff[0])


def test_facts_text_keeps_the_clock_last(persona: Persona) -> None:
    """Two calls minutes apart get fact sheets that differ only in their last line, so a
    model server's prompt cache serves everything before it (llm/warmup.py)."""
    first = fact_sheet(persona, "ru", dt.datetime(2026, 4, 29, 11, 0, tzinfo=MSK))
    later = fact_sheet(persona, "ru", dt.datetime(2026, 4, 29, 11, 7, tzinfo=MSK))
    assert first != later
    assert first.splitlines()[:-1] == later.splitlines()[:-1]
    assert first.splitlines()[-1].startswith("Сейчас: среда 2026-04-29 11:00")
