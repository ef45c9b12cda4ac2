import pytest

from billing_site.core.wording import in_field_words

LABELS = {
    "per_unit_amount": "Per unit",
    "amount": "Amount",
    "package_size": "Package size",
    "per_transaction_min_amount": "Minimum fee per transaction",
    "per_transaction_max_amount": "Maximum fee per transaction",
}


@pytest.mark.parametrize(
    ("_case", "message", "worded"),
    [
        (
            "a key inside a sentence",
            "Tier 1 per_unit_amount must not be negative; got -1.",
            "Tier 1 per unit must not be negative; got -1.",
        ),
        (
            "a key starting the sentence",
            "package_size must be greater than 0; got 0.",
            "Package size must be greater than 0; got 0.",
        ),
        (
            "two keys",
            "per_transaction_min_amount (5) must not exceed per_transaction_max_amount (1).",
            "Minimum fee per transaction (5) must not exceed maximum fee per transaction (1).",
        ),
        ("a plain key at the start", "amount is required.", "Amount is required."),
        (
            "a plain word inside a sentence stays",
            "The amount has too many digits.",
            "The amount has too many digits.",
        ),
        (
            "an unknown key stays",
            "graduated_ranges must be a list.",
            "graduated_ranges must be a list.",
        ),
    ],
)
def test_messages_name_fields_by_their_labels(_case, message, worded):
    assert in_field_words(message, LABELS) == worded
