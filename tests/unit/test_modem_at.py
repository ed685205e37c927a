"""The AT client over a real pty, against the SIM7600 simulation (tests/sim7600.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import serial

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sim7600 import SCENARIOS, Sim7600Simulator

from modem.at import (
    AtClient,
    AtCommandError,
    AtTimeout,
    LineSplitter,
    PortError,
    Transaction,
    open_at_port,
)


def test_line_splitter_handles_split_reads_and_crlf() -> None:
    s = LineSplitter()
    assert s.feed(b"\r\n+CSQ: 2") == []
    assert s.feed(b"1,99\r\n\r\nOK\r\n") == ["+CSQ: 21,99", "OK"]


def test_transaction_separates_echo_reply_urcs_and_final() -> None:
    tx = Transaction("AT+CPIN?", "+CPIN")
    for line in ["AT+CPIN?", "RING", "+CPIN: READY", "SMS DONE", "OK"]:
        tx.feed(line)
    assert (tx.info, tx.urcs, tx.final, tx.ok) == (["+CPIN: READY"], ["RING", "SMS DONE"],
                                                   "OK", True)
    # The same +CPIN: line is a URC while another command is answered.
    other = Transaction("AT+CSQ", "+CSQ")
    for line in ["+CPIN: READY", "+CSQ: 9,99", "OK"]:
        other.feed(line)
    assert (other.info, other.urcs) == (["+CSQ: 9,99"], ["+CPIN: READY"])


def test_client_strips_echo_and_collects_urcs() -> None:
    with Sim7600Simulator(SCENARIOS["healthy"]) as sim:
        client = open_at_port(sim.port, timeout_s=2.0)
        try:
            assert client.command("AT+CGMM") == ["SIMCOM_SIM7600G-H"]   # echo still on
            client.command("ATE0")
            assert client.command("AT+CSQ", prefix="+CSQ") == ["+CSQ: 23,99"]
            assert client.urcs == ["RING", '+CLIP: "+79161234567",145,,,,0']
        finally:
            client.close()


def test_cme_error_codes_numeric_and_verbose() -> None:
    with Sim7600Simulator(SCENARIOS["no_sim"]) as sim:
        client = open_at_port(sim.port)
        try:
            with pytest.raises(AtCommandError) as plain:
                client.command("AT+CPIN?", prefix="+CPIN")
            assert plain.value.code is None and plain.value.final == "ERROR"
            client.command("AT+CMEE=1")
            with pytest.raises(AtCommandError) as numeric:
                client.command("AT+CPIN?", prefix="+CPIN")
            assert numeric.value.code == 10 and "SIM not inserted" in str(numeric.value)
            client.command("AT+CMEE=2")
            with pytest.raises(AtCommandError) as verbose:
                client.command("AT+CIMI")
            assert verbose.value.code == 10
        finally:
            client.close()


def test_timeout_when_the_modem_is_silent() -> None:
    with Sim7600Simulator(SCENARIOS["silent"]) as sim:
        client = open_at_port(sim.port, timeout_s=0.3)
        try:
            with pytest.raises(AtTimeout) as exc:
                client.command("AT")
            assert not exc.value.garbled and "no answer" in str(exc.value)
        finally:
            client.close()


def test_garbage_is_reported_as_unreadable() -> None:
    with Sim7600Simulator(SCENARIOS["garbage"]) as sim:
        client = open_at_port(sim.port, timeout_s=0.3)
        try:
            with pytest.raises(AtTimeout) as exc:
                client.command("AT")
            assert exc.value.garbled and "unreadable" in str(exc.value)
        finally:
            client.close()


def test_wait_for_urc_after_pin() -> None:
    with Sim7600Simulator(SCENARIOS["pin_required"]) as sim:
        port = serial.Serial(sim.port, timeout=0.05)
        client = AtClient(port, timeout_s=2.0)
        try:
            client.command("ATE0")
            client.command("AT+CPIN=1234")
            assert client.wait_for_urc("+CPIN: READY", 2.0) == "+CPIN: READY"
            assert client.command("AT+CPIN?", prefix="+CPIN") == ["+CPIN: READY"]
        finally:
            client.close()


def test_port_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(PortError, match="no such port"):
        open_at_port(str(tmp_path / "ttyUSB9"))
    with Sim7600Simulator(SCENARIOS["healthy"]) as sim:
        holder = serial.Serial(sim.port, exclusive=True)   # as chan_quectel would hold it
        try:
            with pytest.raises(PortError, match="busy"):
                open_at_port(sim.port)
        finally:
            holder.close()
