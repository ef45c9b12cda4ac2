import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_site.core.json_limits import JsonProblem, json_too_deep, json_value_check

# Text full of the characters the scanner must not mistake for structure.
tricky_text = st.text(alphabet=st.sampled_from(list('ab[]{}",:\\\n\u00e9')), max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | tricky_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(tricky_text, children, max_size=3)
    ),
    max_leaves=40,
)


def _depth(value) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@given(value=json_values, limit=st.integers(min_value=0, max_value=6))
def test_the_byte_scan_agrees_with_the_nesting_depth(value, limit):
    raw = json.dumps(value, ensure_ascii=False).encode()
    assert json_too_deep(raw, limit=limit) == (_depth(value) > limit)


def test_a_document_5000_levels_deep_is_found_without_recursion():
    assert json_too_deep(b"[" * 5000 + b"]" * 5000)


@pytest.mark.parametrize(
    ("_case", "value", "path"),
    [
        ("NUL in a nested string", {"a": [1, "x\x00"]}, "a[1]"),
        ("NUL in a key", {"a": {"k\x00": 1}}, "a"),
        ("infinity", {"n": float("inf")}, "n"),
        ("too deep", {"a": [[[[1]]]]}, "a[0][0]"),
    ],
)
def test_value_check_names_where_the_problem_is(_case, value, path):
    with pytest.raises(JsonProblem) as problem:
        json_value_check(value, max_depth=3)
    assert problem.value.path == path
