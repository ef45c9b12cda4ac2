"""Limits every JSON document we accept must respect, checked before anything recursive runs.

Pure (no ORM, no settings), shared by the API's JSON parser and by event ingest:

- nesting depth: at most `MAX_JSON_DEPTH` levels of objects/arrays. Python's `json` and msgspec
  both recurse, so a deep document (5,000 levels) would raise `RecursionError` in the decoder, and
  anything that walks stored JSON later (the admin, `jsonb` functions) would fail the same way.
  `json_too_deep` scans the raw bytes without recursion, and only when the document holds enough
  brackets to be deeper than the limit (a C-speed `bytes.count`), so the common case costs almost
  nothing;
- no NUL character in any string or key: PostgreSQL's `text` and `jsonb` cannot store U+0000;
- numbers finite (`1e309` parses to infinity in Python's `json`).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

MAX_JSON_DEPTH = 32

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def json_too_deep(raw: bytes | bytearray | memoryview, *, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests objects/arrays more than `limit` levels (no recursion)."""
    data = bytes(raw)
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', data)):
        if match[0] in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class JsonProblem(ValueError):
    """A decoded JSON value breaks a limit; `path` is where (`metadata.a[2]`), "" at the root."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def json_value_check(value: Any, *, path: str = "", max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise JsonProblem for a NUL in a string or key, a non-finite number or a nesting deeper
    than `max_depth`; iterative, so any depth the decoder produced is safe to check."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise JsonProblem(where, "Must not contain NUL characters.")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise JsonProblem(where, "Numbers must be finite.")
        elif isinstance(item, Decimal):
            if not item.is_finite():
                raise JsonProblem(where, "Numbers must be finite.")
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise JsonProblem(where, f"Nested more than {max_depth} levels deep.")
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str) and "\x00" in key:
                    raise JsonProblem(where, "Keys must not contain NUL characters.")
                stack.append((child, _join(where, key), depth + 1))
