"""quectel.conf from the generator (fed by the real probe over the simulation) and the
template in asterisk/etc: parsed as chan_quectel reads them (sections, key=value, ';'
comments), values checked; never compared with a stored text."""

from __future__ import annotations

import configparser
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sim7600 import SCENARIOS, Sim7600Simulator

from modem.at import open_at_port
from modem.cli import main
from modem.probe import ModemFacts, probe
from modem.quectel_conf import (
    DEVICE_KEYS,
    GENERAL_KEYS,
    SHARED_KEYS,
    QuectelConfOptions,
    line_language,
    render_quectel_conf,
)

REPO = Path(__file__).resolve().parents[2]


def parse(text: str) -> configparser.ConfigParser:
    conf = configparser.ConfigParser(comment_prefixes=(";",), inline_comment_prefixes=(";",),
                                     interpolation=None, strict=True,
                                     empty_lines_in_values=False, default_section="\0none")
    conf.read_string(text)
    return conf


def assert_known_keys(conf: configparser.ConfigParser) -> None:
    for section in conf.sections():
        known = {"general": GENERAL_KEYS, "defaults": SHARED_KEYS}.get(section, DEVICE_KEYS)
        assert set(conf[section]) <= known, (section, set(conf[section]) - known)


def facts_of(scenario: str) -> ModemFacts:
    with Sim7600Simulator(SCENARIOS[scenario]) as sim:
        client = open_at_port(sim.port)
        try:
            return probe(client)
        finally:
            client.close()


def test_generated_from_a_russian_sim_with_16k_audio() -> None:
    facts = facts_of("healthy")
    text = render_quectel_conf("/dev/sim7600-at", "/dev/sim7600-audio", facts)
    conf = parse(text)
    assert_known_keys(conf)
    assert conf["defaults"]["context"] == "from-gsm"
    assert conf["defaults"]["language"] == "ru"
    assert conf["defaults"]["rxgain"] == "-1" and conf["defaults"]["txgain"] == "-1"
    dev = conf["sim7600"]
    assert (dev["data"], dev["audio"], dev["slin16"]) == (
        "/dev/sim7600-at", "/dev/sim7600-audio", "on")
    assert f"IMEI {facts.imei}" in text and f"IMSI {facts.imsi}" in text   # comments only
    assert "imei" not in dev and "imsi" not in dev


def test_generated_from_a_foreign_sim_without_16k() -> None:
    conf = parse(render_quectel_conf("/dev/ttyUSB2", "/dev/ttyUSB4", facts_of("foreign")))
    assert conf["defaults"]["language"] == "en"
    assert conf["sim7600"]["slin16"] == "off"


def test_options_override_what_was_found() -> None:
    opts = QuectelConfOptions(device="office", context="gsm-in", language="en", group=2,
                              rxgain=4, txgain=6, slin16=False)
    conf = parse(render_quectel_conf("/dev/a", "/dev/b", facts_of("healthy"), opts))
    assert conf.sections() == ["general", "defaults", "office"]
    d = conf["defaults"]
    assert (d["context"], d["language"], d["group"], d["rxgain"], d["txgain"]) == (
        "gsm-in", "en", "2", "4", "6")
    assert conf["office"]["slin16"] == "off"


@pytest.mark.parametrize(("opts", "word"), [
    (QuectelConfOptions(rxgain=9), "--rxgain"), (QuectelConfOptions(txgain=-2), "--txgain"),
    (QuectelConfOptions(device="defaults"), "--name"),
    (QuectelConfOptions(context="a b"), "--context"),
    (QuectelConfOptions(language="Russian"), "--language"),
])
def test_bad_options_name_the_option(opts: QuectelConfOptions, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        render_quectel_conf("/dev/a", "/dev/b", None, opts)


def test_line_language_from_mcc() -> None:
    assert line_language("250011234567890") == "ru"
    assert line_language("401771234567890") == "ru"
    assert line_language("262011234567890") == "en"


def test_cli_writes_the_file_and_refuses_to_overwrite(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    out = tmp_path / "quectel.conf"
    audio = tmp_path / "ttyUSB4"
    with Sim7600Simulator(SCENARIOS["healthy"]) as sim:
        args = ["quectel-conf", "--at-port", sim.port, "--audio-port", str(audio),
                "-o", str(out)]
        assert main(args) == 0
        assert main(args) == 2     # exists, no --force
    conf = parse(out.read_text())
    assert conf["sim7600"]["audio"] == str(audio) and conf["sim7600"]["slin16"] == "on"
    assert main(["quectel-conf", "--at-port", "/dev/a", "--audio-port", "/dev/b",
                 "--rxgain", "12", "--no-probe"]) == 2
    assert "--rxgain" in capsys.readouterr().err


def test_cli_fails_cleanly_when_the_modem_is_silent(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    with Sim7600Simulator(SCENARIOS["silent"]) as sim:
        rc = main(["quectel-conf", "--at-port", sim.port, "--audio-port", "/dev/b",
                   "--timeout", "0.2"])
    assert rc == 1 and "does not answer AT" in capsys.readouterr().err


def test_template_in_asterisk_etc_matches_the_generator() -> None:
    template = parse((REPO / "asterisk/etc/quectel.conf").read_text())
    assert_known_keys(template)
    generated = parse(render_quectel_conf("/dev/sim7600-at", "/dev/sim7600-audio", None))
    for section in ("general", "defaults"):
        assert dict(template[section]) == dict(generated[section]), section
    assert dict(template["sim7600"]) == dict(generated["sim7600"]) | {"slin16": "on"}
