import json
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from billing_site.core.exceptions import ApplicationError
from plans.models import Charge, Plan, PlanVersion
from plans.services import lago_plan_import
from tests.plans.factories import make_metric, make_plan, make_version

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "lago" / "professional_plan.json"


@pytest.fixture
def payload() -> dict:
    return json.loads(FIXTURE.read_text())


@pytest.fixture
def metrics():
    for code in ("llm_api_calls", "image_generations", "payments_volume", "llm_tokens"):
        make_metric(code)
    make_metric("storage_gb", aggregation="sum", field_name="gb", recurring=True)


def test_the_fixture_becomes_a_draft_version_with_the_charges_that_map(payload, metrics):
    # when
    report = lago_plan_import(payload=payload)

    # then the plan and a draft version exist
    plan = Plan.objects.get(code="professional")
    assert (plan.name, plan.description) == (
        "Professional",
        "Best for professionals and small teams",
    )
    version = plan.versions.get()
    assert (version.number, version.status, version.currency, version.interval) == (
        1,
        "draft",
        "USD",
        "month",
    )
    assert version.base_fee == Decimal("49.0000")
    assert version.base_fee_in_advance is True
    assert version.trial_days == 0

    # and the mappable charges, with Lago's properties kept as they were
    charges = {c.metric.code: c for c in version.charges.select_related("metric")}
    assert set(charges) == {"llm_api_calls", "image_generations", "storage_gb", "llm_tokens"}
    graduated = charges["llm_api_calls"]
    assert graduated.charge_model == "graduated"
    assert graduated.invoice_display_name == "LLM API Usage"
    assert graduated.properties == payload["plan"]["charges"][0]["properties"]
    assert charges["image_generations"].min_amount == Decimal("5.0000")
    assert charges["storage_gb"].properties == {"amount": "0.25"}  # empty grouped_by dropped
    assert charges["storage_gb"].prorated is True
    assert charges["llm_tokens"].filters == [
        {
            "values": {"model": ["gpt-4o"]},
            "properties": {"amount": "0.00003"},
            "invoice_display_name": "GPT-4o",
        }
    ]

    # and every charge that could not be mapped has a report line
    assert report.imported == ["llm_api_calls", "image_generations", "storage_gb", "llm_tokens"]
    assert report.skipped == [
        "charge 4 (payments_volume, graduated_percentage): charge model "
        "'graduated_percentage' is not supported",
        "charge 6 (support_tickets, standard): unknown billable metric 'support_tickets'; "
        "create it first",
    ]


@pytest.mark.parametrize(
    ("_case", "charge", "reason"),
    [
        (
            "in advance",
            {"pay_in_advance": True},
            "pay_in_advance: Only a charge on a count, sum or unique_count metric that is not "
            "recurring can be paid in advance.",
        ),
        (
            "prorated package",
            {
                "charge_model": "package",
                "prorated": True,
                "properties": {"amount": "1", "package_size": 10},
            },
            "prorated: A package charge cannot be prorated; only standard, graduated, volume "
            "charges can (as in Lago).",
        ),
        (
            "prorated on a plain count",
            {"billable_metric_code": "tickets", "prorated": True},
            "prorated: Only a charge on a recurring sum or unique_count metric can be prorated.",
        ),
        (
            "recurring in Lago only",
            {"billable_metric_code": "tickets", "billable_metric": {"recurring": True}},
            "the metric is recurring in Lago but not here; align 'tickets' first",
        ),
    ],
)
def test_charges_without_a_counterpart_are_skipped_with_the_reason(_case, charge, reason):
    # given
    make_metric("seats", aggregation="unique_count", field_name="user_id", recurring=True)
    make_metric("tickets")
    raw = {
        "billable_metric_code": "seats",
        "charge_model": "standard",
        "properties": {"amount": "5"},
    } | charge
    payload = {
        "plan": {
            "code": "team",
            "interval": "monthly",
            "amount_currency": "EUR",
            "amount_cents": 0,
            "charges": [raw],
        }
    }
    # when
    report = lago_plan_import(payload=payload)
    # then
    label = f"charge 1 ({raw['billable_metric_code']}, {raw['charge_model']})"
    assert report.skipped == [f"{label}: {reason}"]
    assert not Charge.objects.exists()


def test_a_prorated_seat_charge_with_pricing_groups_is_imported():
    # given
    make_metric("seats", aggregation="unique_count", field_name="user_id", recurring=True)
    raw = {
        "billable_metric": {"code": "seats", "recurring": True},
        "charge_model": "graduated",
        "prorated": True,
        "properties": {
            "pricing_group_keys": ["workspace"],
            "graduated_ranges": [
                {"from_value": 0, "to_value": 5, "per_unit_amount": "10", "flat_amount": "0"},
                {"from_value": 6, "to_value": None, "per_unit_amount": "8", "flat_amount": "0"},
            ],
        },
    }
    payload = {
        "plan": {
            "code": "team",
            "interval": "monthly",
            "amount_currency": "EUR",
            "amount_cents": 0,
            "charges": [raw],
        }
    }
    # when
    report = lago_plan_import(payload=payload)
    # then
    charge = Charge.objects.get()
    assert (charge.prorated, charge.properties["pricing_group_keys"]) == (True, ["workspace"])
    assert report.skipped == []


def test_an_existing_plan_gets_a_new_draft_numbered_after_its_versions(payload, metrics):
    plan = make_plan("professional", name="Pro (old name)")
    make_version(plan, publish=True)

    report = lago_plan_import(payload=payload)

    assert report.plan_created is False
    assert report.version_number == 2
    assert Plan.objects.get(code="professional").name == "Pro (old name)"
    assert plan.versions.get(number=2).status == "draft"


def test_a_plan_with_an_open_draft_is_refused_and_nothing_is_written(payload, metrics):
    plan = make_plan("professional")
    make_version(plan)

    with pytest.raises(ApplicationError) as raised:
        lago_plan_import(payload=payload)

    assert raised.value.code == "draft_exists"
    assert plan.versions.count() == 1


def test_an_unknown_interval_fails_the_import(payload):
    payload["plan"]["interval"] = "semiannual"
    with pytest.raises(ApplicationError) as raised:
        lago_plan_import(payload=payload)
    assert raised.value.fields.keys() == {"plan.interval"}
    assert not Plan.objects.exists()


def test_invalid_lago_properties_are_reported_not_imported(payload, metrics):
    payload["plan"]["charges"][0]["properties"]["graduated_ranges"][1]["from_value"] = 20000

    report = lago_plan_import(payload=payload)

    assert "llm_api_calls" not in report.imported
    assert any(
        "charge 1 (llm_api_calls, graduated): invalid properties: "
        "graduated_ranges[1].from_value: Tier 2 must start at 10000 or 10001" in line
        for line in report.skipped
    )


def test_the_command_prints_the_report(metrics):
    out = StringIO()

    call_command("import_lago_plan", str(FIXTURE), stdout=out)

    text = out.getvalue()
    assert "plan professional: created" in text
    assert "SKIPPED charge 4 (payments_volume, graduated_percentage)" in text
    assert "professional v1: 4 charge(s) imported, 2 item(s) skipped. Saved as a draft." in text
    assert PlanVersion.objects.filter(plan__code="professional", status="draft").count() == 1


def test_the_command_dry_run_keeps_nothing(metrics):
    out = StringIO()

    call_command("import_lago_plan", str(FIXTURE), "--dry-run", stdout=out)

    assert "Dry run: nothing was saved." in out.getvalue()
    assert "4 charge(s) imported" in out.getvalue()
    assert not Plan.objects.exists()
    assert not Charge.objects.exists()


def test_the_command_fails_cleanly_on_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_lago_plan", str(tmp_path / "missing.json"))


def test_a_pay_in_advance_charge_is_imported_with_its_flag(payload, metrics):
    # given the fixture's support tickets, which Lago bills in advance, and their metric here
    make_metric("support_tickets")
    # when
    report = lago_plan_import(payload=payload)
    # then that charge is paid in advance and the others are not
    flags = dict(Charge.objects.values_list("metric__code", "pay_in_advance"))
    assert flags.pop("support_tickets") is True
    assert set(flags.values()) == {False}
    assert "charge 6 (support_tickets, standard): imported with paid in advance" in report.lines
