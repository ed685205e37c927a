"""Write chan_quectel's quectel.conf from what was found on the modem.

The keys are those chan_quectel reads at the commit scripts/build-chan-quectel builds
(RoEdAl/asterisk-chan-quectel, src/dc_config.c). That version has no imei/imsi options (it
addresses devices by their section name, with udev for stable ports), so the IMEI, IMSI and
ICCID go into comments, for the admin to see which SIM the section belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modem.probe import ModemFacts

CHAN_QUECTEL_COMMIT = "5552c365bfb319eed7cbbf6300a67028ab70db9e"

GENERAL_KEYS = frozenset({"interval", "smsdb", "smsdb_backup", "smsttl"})
SHARED_KEYS = frozenset({
    "context", "exten", "language", "group", "rxgain", "txgain", "callingpres",
    "usecallingpres", "autodeletesms", "resetmodem", "disable", "initstate", "callwaiting",
    "multiparty", "dtmf", "dtmf_duration", "moh", "query_time", "dsci", "qhup", "msg_direct",
    "msg_storage", "msg_service",
})
DEVICE_KEYS = frozenset({"audio", "data", "alsadev", "uac", "slin16"}) | SHARED_KEYS

# The country of the SIM (the IMSI's first three digits, its MCC) picks the line's language:
# Russian where Russian is what callers are likeliest to speak, English elsewhere.
RUSSIAN_MCC = frozenset({"250", "257", "401", "437"})   # Russia, Belarus, Kazakhstan, Kyrgyzstan
SIMCOM_MAX_GAIN = 8   # AT+CMICGAIN / AT+COUTGAIN range; chan_quectel passes the value as is

_NAME = re.compile(r"[A-Za-z0-9_-]+")
_LANGUAGE = re.compile(r"[a-z]{2}(_[A-Z]{2})?")


@dataclass(frozen=True)
class QuectelConfOptions:
    device: str = "sim7600"         # the section name: the channel is Quectel/<device>
    context: str = "from-gsm"       # the dialplan context incoming calls start in
    language: str | None = None     # None: from the SIM's country
    group: int = 0
    rxgain: int = -1                # -1: keep the module's own setting
    txgain: int = -1
    slin16: bool | None = None      # None: on when the modem offers 16 kHz (AT+CPCMFRM=?)

    def validate(self) -> None:
        if not _NAME.fullmatch(self.device) or self.device in ("general", "defaults"):
            raise ValueError(f"--name: {self.device!r} is not a usable section name "
                             "(letters, digits, '-' and '_'; not general/defaults)")
        if not _NAME.fullmatch(self.context):
            raise ValueError(f"--context: {self.context!r} is not a dialplan context name")
        if self.language is not None and not _LANGUAGE.fullmatch(self.language):
            raise ValueError(f"--language: {self.language!r} is not a language code like ru")
        for key in ("rxgain", "txgain"):
            value = getattr(self, key)
            if not -1 <= value <= SIMCOM_MAX_GAIN:
                raise ValueError(f"--{key}: {value} is outside -1..{SIMCOM_MAX_GAIN} "
                                 "(the SIM7600's gain steps; -1 keeps the module's setting)")


def line_language(imsi: str) -> str:
    return "ru" if imsi[:3] in RUSSIAN_MCC else "en"


def render_quectel_conf(data_port: str, audio_port: str, facts: ModemFacts | None,
                        options: QuectelConfOptions | None = None) -> str:
    opts = options or QuectelConfOptions()
    opts.validate()
    imsi = facts.imsi if facts else ""
    language = opts.language or (line_language(imsi) if imsi else "ru")
    slin16 = opts.slin16
    if slin16 is None:
        slin16 = bool(facts and facts.pcm_formats and 1 in facts.pcm_formats)

    about = ["; quectel.conf for chan_quectel, written by `python -m modem quectel-conf`.",
             f"; Keys as read by RoEdAl/asterisk-chan-quectel at {CHAN_QUECTEL_COMMIT[:12]}."]
    if facts is not None:
        about.append(f"; Modem: {facts.model or '?'}, firmware {facts.revision or '?'}, "
                     f"IMEI {facts.imei or '?'}")
        about.append(f"; SIM: IMSI {imsi or '?'}, ICCID {facts.iccid or '?'}"
                     + (f", operator {facts.operator.name}"
                        if facts.operator and facts.operator.name else ""))
        if facts.mic_gain is not None and facts.out_gain is not None:
            about.append(f"; Gains now: AT+CMICGAIN {facts.mic_gain}, "
                         f"AT+COUTGAIN {facts.out_gain} (0-8)")
    language_note = ("from --language" if opts.language else
                     f"from the SIM's country (MCC {imsi[:3]})" if imsi else "default")

    sections: list[tuple[str, list[tuple[str, str, str]]]] = [
        ("general", [("interval", "15", "seconds between attempts to reach a missing device")]),
        ("defaults", [
            ("context", opts.context, "incoming calls start here; the line's variables are set "
                                      "in this dialplan context"),
            ("language", language, f"channel language, {language_note}"),
            ("group", str(opts.group), "Dial(Quectel/g<group>/...) picks among a group"),
            ("rxgain", str(opts.rxgain), "SimCOM: sent as AT+CMICGAIN; 0-8, -1 = module setting"),
            ("txgain", str(opts.txgain), "SimCOM: sent as AT+COUTGAIN; 0-8, -1 = module setting"),
            ("callwaiting", "auto", "keep the network's call-waiting setting"),
            ("autodeletesms", "yes", "auto-delete incoming SMS"),
            ("resetmodem", "yes", "ATZ when the device is initialised"),
            ("dtmf", "on", "the module detects key presses (AT+DDET on SimCOM)"),
            ("initstate", "start", "start the device when the module loads"),
        ]),
        (opts.device, [
            ("data", data_port, "AT command port, USB interface 2"),
            ("audio", audio_port, "voice port, USB interface 4 (PCM over USB)"),
            ("slin16", "on" if slin16 else "off",
             "16 kHz audio (AT+CPCMFRM=1); the SIM7600 is the module that offers it"),
        ]),
    ]
    out = [*about, ""]
    for name, entries in sections:
        known = GENERAL_KEYS if name == "general" else SHARED_KEYS if name == "defaults" \
            else DEVICE_KEYS
        out.append(f"[{name}]")
        for key, value, comment in entries:
            assert key in known, f"{key} is not a chan_quectel key in [{name}]"
            out.append(f"{key}={value:<24} ; {comment}")
        out.append("")
    return "\n".join(out)
