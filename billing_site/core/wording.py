"""Errors in the words of the form they are shown on.

The pricing module speaks Lago's property names (``per_unit_amount``, ``free_units``) because the
API's clients send them; the admin's operator typed into fields labelled "Per unit" and "Free
units". ``in_field_words`` rewrites a message with the labels of the fields it names, so a tier
row reads "Tier 1 per unit must not be negative" and never shows a snake_case key. Pure: no ORM.
"""

import re
from collections.abc import Mapping

_KEY = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\b[a-z]+\b")


def in_field_words(message: str, labels: Mapping[str, str]) -> str:
    """``message`` with each property key of ``labels`` replaced by its label (lower case inside
    a sentence, capitalised at its start); other words are left alone."""

    def label(match: re.Match[str]) -> str:
        word = match.group(0)
        if word not in labels or ("_" not in word and match.start() != 0):
            return word  # a plain word ("amount") is a key only where a sentence starts with it
        text = labels[word]
        return text[:1].upper() + text[1:] if match.start() == 0 else text[:1].lower() + text[1:]

    return _KEY.sub(label, message)
