import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db


def _codenames(group_name: str) -> set[str]:
    return set(Group.objects.get(name=group_name).permissions.values_list("codename", flat=True))


def test_finance_and_ops_groups_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {"finance", "ops"}


def test_ops_manages_api_keys_and_finance_only_views_them():
    assert {"add_apikey", "change_apikey", "view_apikey"} <= _codenames("ops")
    assert "view_apikey" in _codenames("finance")
    assert "add_apikey" not in _codenames("finance")


def test_nobody_may_edit_the_audit_log():
    for role in ("finance", "ops"):
        assert "view_auditlogentry" in _codenames(role)
        assert "change_auditlogentry" not in _codenames(role)
        assert "delete_auditlogentry" not in _codenames(role)
