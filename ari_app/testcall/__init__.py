"""Test and benchmark harness: real SIP calls with sipp, RTP capture with tcpdump, timing."""

from ari_app.testcall.runner import CallResult, make_caller_audio, place_call
from ari_app.testcall.scenario import Utterance, build_uac_scenario

__all__ = ["CallResult", "Utterance", "build_uac_scenario", "make_caller_audio", "place_call"]
