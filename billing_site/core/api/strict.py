"""DRF text fields take text only.

DRF's `CharField` (and so `EmailField`, `RegexField`, `SlugField`...) turns a JSON number into
its string: `{"name": 12}` stores "12" and `{"reason": 1e400}` stores "inf". A client that sends a
number where text belongs has a bug we should report, not hide. Installed once, in
`CoreConfig.ready`, so every serializer of every app, present and future, behaves the same.
Query strings and form data are always text and are unaffected.
"""

from typing import Any

from rest_framework import serializers

_original_to_internal_value = serializers.CharField.to_internal_value


def _text_only(self: serializers.CharField, data: Any) -> str:
    if not isinstance(data, str):
        self.fail("invalid")
    return _original_to_internal_value(self, data)


def text_fields_refuse_numbers() -> None:
    serializers.CharField.to_internal_value = _text_only  # type: ignore[method-assign]
