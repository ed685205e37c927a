"""No engine reports on the box to its vendor.

The secretary hears callers' names and numbers and runs on the company's own machine; the
libraries it runs models with must not phone home. onnxruntime (the VAD, the end-of-turn
model and Piper run on it) collects usage telemetry on Linux too (seen in the 1.32 wheel
this app installs): it writes a device id and an event cache under
~/.cache/Microsoft/DeveloperTools and keeps them open from its first session, unless
`ORT_DISABLE_TELEMETRY=1` is set before then (the library reads it once per process).
`quiet_engines` sets it, Hugging Face's `HF_HUB_DISABLE_TELEMETRY` and the general
`DO_NOT_TRACK` at the start of every `secretary` command, before any engine loads; a value
the admin set (in the environment or the .env file) stands, so an admin can opt in.

vLLM's usage reports are turned off where vLLM is started (scripts/serve-vllm).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

OPT_OUTS = {
    "ORT_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",  # Hugging Face libraries (XTTS's transformers)
    "DO_NOT_TRACK": "1",
}


def quiet_engines(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Opt out of the engines' telemetry in `environ` (the process's by default) where the
    admin has not said otherwise; returns the variables it set."""
    env = os.environ if environ is None else environ
    set_here = {}
    for name, value in OPT_OUTS.items():
        if name not in env:
            env[name] = value
            set_here[name] = value
    return set_here
