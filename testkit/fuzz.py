"""What the fuzz tests (tests/unit/test_fuzz_*.py) share: one Hypothesis profile and the
strategies that turn a valid document into a broken one.

The profile is deterministic (`derandomize`: the same examples on every run and machine),
has no deadline (a slow CI machine is not a failure) and keeps no example database (no
failure is replayed from a file; the caches Hypothesis keeps in `.hypothesis/` are
git-ignored). A bug it finds is kept as an explicit `@example` next to the test, so that it
stays a regression test whatever Hypothesis generates later.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(
    derandomize=True,
    deadline=None,
    max_examples=200,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Values a parser sees least often and trips on most: limits of the integer types; text that
# is empty, blank, a NUL, a line separator, a byte-order mark, right-to-left, or a number too
# long for Python's int() (4300 digits).
HUGE_INTS = st.sampled_from([2**31, 2**32, 2**63, -(2**63) - 1, 10**40, -(10**40)])
ODD_TEXT = st.sampled_from(
    ["", " ", "\x00", "\u2028", "\ufeff", "Ромашка", "🙂", "\u202e1", "9" * 5000]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | HUGE_INTS
    | st.floats()
    | st.text(max_size=12)
    | ODD_TEXT
)
# The same, with what YAML adds on its own (dates and times).
YAML_SCALARS = SCALARS | st.dates() | st.datetimes()

Path = tuple[str | int, ...]


def nested(leaves: st.SearchStrategy[Any], keys: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Lists and mappings (keyed by `keys`) of `leaves`, a few levels deep."""
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=12,
    )


JSON_VALUES = nested(SCALARS, st.text(max_size=8))
# YAML's mapping keys may be numbers, true/false, null or dates as well.
YAML_VALUES = nested(
    YAML_SCALARS, st.text(max_size=8) | st.integers() | st.booleans() | st.none() | st.dates()
)


def paths(doc: Any, prefix: Path = ()) -> list[Path]:
    """Every place in a document of dicts and lists, outermost first (the root excluded)."""
    found: list[Path] = []
    items: list[tuple[str | int, Any]] = []
    if isinstance(doc, dict):
        items = list(doc.items())
    elif isinstance(doc, list):
        items = list(enumerate(doc))
    for key, value in items:
        found.append((*prefix, key))
        found += paths(value, (*prefix, key))
    return found


def _at(doc: Any, path: Path) -> Any:
    for key in path:
        doc = doc[key]
    return doc


@st.composite
def mutated(draw: st.DrawFn, doc: Any, junk: st.SearchStrategy[Any]) -> tuple[Any, list[Path]]:
    """`doc` with one to three changes: a key or item deleted, a value replaced by `junk`
    (wrong type, huge number, odd text, a nested structure), or an unknown key added.
    Returns the broken copy and the places changed."""
    doc = copy.deepcopy(doc)
    changed: list[Path] = []
    for _ in range(draw(st.integers(1, 3))):
        places = paths(doc)
        if not places:
            break
        path = draw(st.sampled_from(places))
        parent, key = _at(doc, path[:-1]), path[-1]
        action = draw(st.sampled_from(["delete", "replace", "add"]))
        if action == "delete":
            del parent[key]
        elif action == "replace":
            parent[key] = draw(junk)
        elif isinstance(parent, dict):
            key = draw(st.text(min_size=1, max_size=8))
            parent[key] = draw(junk)
            path = (*path[:-1], key)
        else:
            parent.insert(int(key), draw(junk))
        changed.append(path)
    return doc, changed
