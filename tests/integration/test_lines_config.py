"""The configuration a PBX admin installs (asterisk/etc, asterisk/dialplan, with
pjsip_secrets.conf made from its committed example) loads into a real Asterisk without an
error, and reloads cleanly."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from lineskit import cli, log_path

pytestmark = pytest.mark.integration

TWILIO_RANGES = {
    "54.172.60.0/30", "54.244.51.0/30", "54.171.127.192/30", "35.156.191.128/30",
    "54.65.63.192/30", "54.169.127.128/30", "54.252.254.64/30", "177.71.206.192/30",
}  # fmt: skip
CONTEXTS = [
    "secretary-inbound", "secretary-fallback", "secretary-blocklist", "from-gsm",
    "from-twilio", "from-sip-trunk", "from-internal", "secretary-transfer", "secretary-staff",
    "secretary-directory", "secretary-numbers",
]  # fmt: skip
# Lines Asterisk logs at every (re)load that are not about this project's files.
FOREIGN = ("users.conf is deprecated",)


def log_lines_after(offset: int) -> list[str]:
    with log_path().open("rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    return [ln for ln in text.splitlines()
            if re.search(r"\] (ERROR|WARNING)\[", ln) and not any(f in ln for f in FOREIGN)]


def test_reload_logs_no_error(asterisk_testbed: Any) -> None:
    offset = log_path().stat().st_size
    assert "Dialplan reloaded" in cli("dialplan reload")
    cli("module reload")
    time.sleep(1.5)  # reloads finish in the background
    assert log_lines_after(offset) == []


def test_endpoints_from_the_templates(asterisk_testbed: Any) -> None:
    out = cli("pjsip show endpoints")
    endpoints = set(re.findall(r"^ Endpoint:  (\S+?)(?:/\S*)?\s", out, flags=re.M))
    assert {"twilio", "200", "201"} <= endpoints
    assert "OutAuth:  twilio-auth/" in out  # user from pjsip_secrets.conf(.example)
    matches = set(re.findall(r"Match: (\S+)", cli("pjsip show identify twilio-origination")))
    assert TWILIO_RANGES <= matches
    endpoint = cli("pjsip show endpoint twilio")
    assert re.search(r"identify_by\s+:\s+ip\s*$", endpoint, flags=re.M)
    assert re.search(r"context\s+:\s+from-twilio\s*$", endpoint, flags=re.M)
    assert re.search(r"^ acl\s+:\s+deny/permit\s*$", endpoint, flags=re.M)  # the ACL is on
    assert re.search(r"context\s+:\s+from-internal\s*$", cli("pjsip show endpoint 200"),
                     flags=re.M)


def test_contexts_voicemail_and_queue_loaded(asterisk_testbed: Any) -> None:
    for context in CONTEXTS:
        out = cli(f"dialplan show {context}")
        assert f"Context '{context}'" in out, out
    modules = cli("module show like voicemail")
    assert "app_voicemail.so" in modules and "1 modules loaded" in modules
    assert "staff" in cli("voicemail show users for secretary")
    assert "PJSIP/200" in cli("queue show reception")

