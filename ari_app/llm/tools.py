"""The secretary's tools, as JSON Schemas the providers pass to the model.

The model only asks; the dialogue layer runs the call (records the message, transfers the
channel, reads the hours from the facts, hangs up) and answers with a `tool` message.
`problems(call)` checks a call against its schema before anything is run: a small model
may invent a tool or forget an argument.
"""

from __future__ import annotations

from typing import Any

from ari_app.llm.base import Tool, ToolCall

TAKE_MESSAGE = Tool(
    name="take_message",
    description=(
        "Take a message for the company when the caller wants to leave one, or when the "
        "facts do not answer the question. Ask for the name and a callback number first."
    ),
    parameters={
        "type": "object",
        "properties": {
            "caller_name": {"type": "string", "description": "The name the caller gave"},
            "callback_number": {"type": "string", "description": "Phone number to call back"},
            "message": {"type": "string", "description": "The message, in the caller's words"},
            "urgent": {"type": "boolean", "description": "The caller says it is urgent"},
        },
        "required": ["message"],
    },
)

TRANSFER_CALL = Tool(
    name="transfer_call",
    description=(
        "Transfer the call to a person or department named in the facts, when the caller "
        "asks for them or needs something only they can do."
    ),
    parameters={
        "type": "object",
        "properties": {
            "target": {"type": "string", "description": "Person or department from the facts"},
            "reason": {"type": "string", "description": "Why, in a few words, for the person"},
        },
        "required": ["target"],
    },
)

CHECK_HOURS = Tool(
    name="check_hours",
    description="Look up whether the company is open on a day and its working hours.",
    parameters={
        "type": "object",
        "properties": {
            "day": {
                "type": "string",
                "description": "'today', 'tomorrow', a weekday or a date YYYY-MM-DD",
            },
        },
        "required": [],
    },
)

END_CALL = Tool(
    name="end_call",
    description="End the call after saying goodbye, when the caller has nothing more to ask.",
    parameters={
        "type": "object",
        "properties": {
            "reason": {"type": "string", "description": "Why the call ends, in a few words"},
        },
        "required": [],
    },
)

SECRETARY_TOOLS: tuple[Tool, ...] = (TAKE_MESSAGE, TRANSFER_CALL, CHECK_HOURS, END_CALL)

_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
}


def problems(call: ToolCall, tools: tuple[Tool, ...] = SECRETARY_TOOLS) -> list[str]:
    """What is wrong with `call` (unknown tool, missing or mistyped argument); [] when fine."""
    tool = next((t for t in tools if t.name == call.name), None)
    if tool is None:
        return [f"unknown tool {call.name!r}"]
    out = []
    schema: dict[str, Any] = tool.parameters
    properties: dict[str, Any] = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in call.args:
            out.append(f"{call.name}: missing argument {key!r}")
    for key, value in call.args.items():
        if key not in properties:
            out.append(f"{call.name}: unknown argument {key!r}")
            continue
        expected = _JSON_TYPES.get(properties[key].get("type", ""))
        if expected is not None and not isinstance(value, expected):
            out.append(f"{call.name}: {key!r} should be a {properties[key]['type']}")
    return out
