"""Reading the YAML files admins edit (the config, personas, the secrets file).

PyYAML's safe loader lets Python's own errors out for a scalar it recognises but cannot
build: a date that does not exist (`2024-02-30`: ValueError), an integer over Python's
4300-digit limit (ValueError), an explicit tag on the wrong text (`!!bool maybe`: KeyError,
`!!int +`: IndexError, `!!timestamp x`: AttributeError); nesting deeper than Python's
recursion limit is a RecursionError; and a key given twice in one mapping is taken, the last
silently winning over an admin's first. `AdminLoader` makes each of them a YAML error at the
value's (or the second key's) line, so that `read_yaml` can report every bad file the same
way: a ConfigError "<file>: invalid YAML: line L column C: <problem>".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.reader import ReaderError

from ari_app.errors import ConfigError

# Far deeper than any file of ours (a persona nests five levels), far shallower than the
# recursion limit (each level is a few frames of the composer and the constructor).
MAX_DEPTH = 64


class AdminLoader(yaml.SafeLoader):
    """The safe loader, whose every failure is a yaml.YAMLError with a position."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep",
                                    self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[str, str], Any] = {}
        # a `!!map` tag on a sequence or scalar: the base says it is not a mapping
        pairs = node.value if isinstance(node, MappingNode) else []
        for key_node, _ in pairs:
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` is meant to be overridden
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise ConstructorError(
                    None, None, f"duplicate key {key_node.value!r} (first at line "
                    f"{seen[key].line + 1})", key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep)

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, KeyError, IndexError, AttributeError) as exc:
            # only a scalar's constructor raises these; its children were wrapped below it
            kind = str(node.tag).rsplit(":", 1)[-1]  # tag:yaml.org,2002:timestamp
            why = f" ({exc})" if isinstance(exc, ValueError) else ""
            shown = str(node.value)[:40]
            raise ConstructorError(None, None, f"{shown!r} is not a valid {kind}{why}",
                                   node.start_mark) from None


def read_yaml(path: Path, unreadable: str = "cannot read") -> Any:
    """The YAML document in `path`. A file that cannot be read (the message starts with
    `unreadable`), is not UTF-8 or is not valid YAML is a ConfigError naming the file, and
    the byte, or the line and column, where that is known."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: {unreadable}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text at byte {exc.start}: {exc.reason}") from None
    return parse_yaml(text, source)


def parse_yaml(text: str, source: str) -> Any:
    """The YAML document in `text`; invalid YAML is a ConfigError naming `source` and the
    line and column."""
    try:
        return yaml.load(text, Loader=AdminLoader)
    except ReaderError as exc:  # a control character: it has an offset, not a mark
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - text.rfind("\n", 0, exc.position)
        code = f" (#x{exc.character:04x})" if isinstance(exc.character, int) else ""
        raise ConfigError(
            f"{source}: invalid YAML: line {line} column {column}: {exc.reason}{code}"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{source}: invalid YAML: {where}{problem}") from None
