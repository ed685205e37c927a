"""Editing a YAML file an admin also edits by hand: their comments, key order and quoting
stay, only the values that changed are rewritten (ruamel.yaml's round trip), and the file is
replaced whole or not at all. Used by the console's persona and settings pages."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from ari_app.errors import ConfigError
from ari_app.yaml_file import parse_yaml


def json_safe(value: Any) -> Any:
    """YAML data as JSON can carry it: dates and times as ISO text."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return value


def merged_text(text: str, data: dict[str, Any]) -> str:
    """`text` (a YAML mapping) rewritten to hold `data`: what did not change keeps its
    comments and style. A text that is not a readable mapping is replaced by `data`."""
    rt = _yaml()
    try:
        document = rt.load(text)
    except Exception:  # a broken file (ruamel has many errors): start afresh
        document = None
    if not isinstance(document, CommentedMap):
        document = CommentedMap()
    document = _merge(document, data)
    out = io.StringIO()
    rt.dump(document, out)
    merged = out.getvalue()
    try:
        back = parse_yaml(merged, "merged")
    except ConfigError:
        back = None
    if json_safe(back) != json_safe(data):  # never write a surprise
        raise RuntimeError("the merged YAML does not read back as the data given")
    return merged


def _yaml() -> YAML:
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096  # never re-wrap the admin's long lines
    rt.indent(mapping=2, sequence=4, offset=2)
    return rt


def _plain_is_text(text: str) -> bool:
    """Whether PyYAML (which reads our files) takes `text` written plainly as a string."""
    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False))
    return bool(tag == "tag:yaml.org,2002:str")


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, dt.date) and isinstance(new, str):
        return old.isoformat() == new
    if isinstance(old, bool) or isinstance(new, bool):  # True == 1 in Python, not in YAML
        return isinstance(old, bool) and isinstance(new, bool) and old == new
    return bool(old == new)


_IDENTITY_KEYS = ("id", "name", "kind", "date", "question")


def _merge(old: Any, new: Any) -> Any:
    """`new` in the shape of `old`: unchanged parts are old's own nodes (with comments)."""
    if isinstance(old, CommentedMap) and isinstance(new, dict):
        tail = _pop_tail(old)
        for key in [k for k in old if k not in new]:
            del old[key]
        for key, value in new.items():
            old[key] = _merge(old[key], value) if key in old else _fresh(value)
        _put_tail(old, tail)
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        tail = _pop_tail(old)
        items = _matched(list(old), new)
        del old[:]
        old.extend(items)
        _put_tail(old, tail)
        return old
    if _same(old, new):
        return old
    if isinstance(new, str) and isinstance(old, str) and type(old) is not str:
        return type(old)(new)  # keep the quoting style the admin used
    return _fresh(new)


def _matched(old: list[Any], new: list[Any]) -> list[Any]:
    """The new list's items, each merged into the old item it is (the same value, else the
    same id/name/kind/date), so an item moved keeps its own comments; others are new."""
    unused = list(range(len(old)))

    def take(test: Any) -> int | None:
        for i in unused:
            if test(old[i]):
                unused.remove(i)
                return i
        return None

    out = []
    for value in new:
        i = take(lambda item, value=value: json_safe(item) == json_safe(value))
        if i is None and isinstance(value, dict):
            key = next((k for k in _IDENTITY_KEYS if k in value), None)
            if key is not None:
                i = take(lambda item, key=key, value=value: isinstance(item, dict)
                         and json_safe(item.get(key)) == json_safe(value[key]))
        out.append(_merge(old[i], value) if i is not None else _fresh(value))
    return out


def _tail_slot(node: Any) -> tuple[Any, Any, int] | None:
    """Where the comment after a block node is kept: ruamel hangs it on the block's last
    scalar ("# the next section" below a list hangs on its last item's last value)."""
    while True:
        slot: tuple[Any, Any, int]
        if isinstance(node, CommentedMap) and len(node):
            key = list(node)[-1]
            slot = (node, key, 2)
        elif isinstance(node, CommentedSeq) and len(node):
            key = len(node) - 1
            slot = (node, key, 0)
        else:
            return None
        child = node[key]
        if isinstance(child, CommentedMap | CommentedSeq) and len(child) \
                and not child.fa.flow_style():
            node = child
            continue
        return slot


def _pop_tail(node: Any) -> Any:
    slot = _tail_slot(node)
    if slot is None:
        return None
    holder, key, index = slot
    entry = holder.ca.items.get(key)
    if not entry or len(entry) <= index or entry[index] is None:
        return None
    token, entry[index] = entry[index], None
    return token


def _put_tail(node: Any, token: Any) -> None:
    slot = _tail_slot(node) if token is not None else None
    if slot is None:
        return
    holder, key, index = slot
    entry = holder.ca.items.setdefault(key, [None] * 4)
    while len(entry) <= index:
        entry.append(None)
    if entry[index] is None:
        entry[index] = token
    else:  # the new last value has its own comment: the block's comes after it
        entry[index].value = entry[index].value.rstrip("\n") + "\n" + token.value.lstrip("\n")


def _fresh(value: Any) -> Any:
    """A new value, quoted where PyYAML would otherwise read it as something else; blocks
    as ruamel's own nodes, so a comment can hang on them."""
    if isinstance(value, dict):
        return CommentedMap((k, _fresh(v)) for k, v in value.items())
    if isinstance(value, list):
        return CommentedSeq(_fresh(v) for v in value)
    if isinstance(value, str) and not _plain_is_text(value):
        return DoubleQuotedScalarString(value)
    return value


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` so that a reader sees the old file or the new, never half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
