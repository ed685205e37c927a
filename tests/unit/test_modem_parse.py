"""The AT reply parsers: documented forms in, typed values out; anything else is an error."""

from __future__ import annotations

import pytest

from modem.parse import (
    ParseError,
    parse_clip,
    parse_cops,
    parse_cpin,
    parse_csq,
    parse_digits,
    parse_range,
    parse_registration,
    parse_spic,
    rssi_to_dbm,
    signal_quality,
)


@pytest.mark.parametrize(("rssi", "dbm"), [
    (0, -113), (1, -111), (2, -109), (15, -83), (20, -73), (30, -53), (31, -51),
    (99, None), (100, -116), (150, -66), (191, -25), (199, None),
])
def test_rssi_to_dbm_follows_the_csq_table(rssi: int, dbm: int | None) -> None:
    assert rssi_to_dbm(rssi) == dbm


@pytest.mark.parametrize(("dbm", "words"), [
    (-51, "excellent"), (-73, "excellent"), (-75, "good"), (-83, "good"), (-85, "fair"),
    (-93, "fair"), (-95, "weak"), (-103, "weak"), (-105, "very weak"), (None, "no signal"),
])
def test_signal_quality_bands(dbm: int | None, words: str) -> None:
    assert signal_quality(dbm) == words


def test_csq_parsed_with_level_and_words() -> None:
    s = parse_csq("+CSQ: 17,99")
    assert (s.rssi, s.ber, s.dbm, s.quality) == (17, 99, -79, "good")


@pytest.mark.parametrize("line", ["+CSQ: x,99", "+CSQ: 17", "+CSQ: 45,0", "CSQ 17,99", "+CSQ:"])
def test_csq_garbage_is_a_parse_error_naming_the_command(line: str) -> None:
    with pytest.raises(ParseError, match=r"AT\+CSQ"):
        parse_csq(line)


def test_registration_read_form_and_unsolicited_form() -> None:
    r = parse_registration('+CREG: 2,5,"1A2B","0C3D4E5"', "+CREG")
    assert (r.stat, r.area, r.cell, r.registered, r.roaming) == (5, "1A2B", "0C3D4E5", True, True)
    u = parse_registration("+CEREG: 1", "+CEREG", read_form=False)
    assert (u.command, u.stat, u.registered, u.roaming) == ("AT+CEREG", 1, True, False)
    for stat, registered in ((0, False), (2, False), (3, False), (4, False), (1, True)):
        assert parse_registration(f"+CREG: 0,{stat}").registered is registered
    with pytest.raises(ParseError):
        parse_registration("+CREG: 0,42")


def test_cops_with_and_without_operator() -> None:
    op = parse_cops('+COPS: 0,0,"Beeline",7')
    assert (op.mode, op.name, op.act) == (0, "Beeline", "LTE")
    assert parse_cops("+COPS: 0").name == ""
    with pytest.raises(ParseError):
        parse_cops("+COPS: 0,0,Beeline")


def test_sim_state_pin_attempts_and_identities() -> None:
    assert parse_cpin("+CPIN: SIM PIN") == "SIM PIN"
    with pytest.raises(ParseError):
        parse_cpin("+CPIN: MAYBE")
    assert parse_spic("+SPIC: 2,10,3,10").pin == 2
    assert parse_digits("AT+CGSN", "861234050000012", range(14, 18)) == "861234050000012"
    with pytest.raises(ParseError):
        parse_digits("AT+CGSN", "86123405000001X", range(14, 18))


def test_clip_and_ranges() -> None:
    assert parse_clip("+CLIP: 1,0") == (1, 0)
    with pytest.raises(ParseError):
        parse_clip("+CLIP: 1,7")
    assert parse_range("AT+CPCMFRM=?", "+CPCMFRM: (0-1)", "+CPCMFRM") == {0, 1}
    assert parse_range("AT+CMICGAIN=?", "+CMICGAIN: (0-2,5)", "+CMICGAIN") == {0, 1, 2, 5}
