import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from billing_site.core.models import ApiKey
from billing_site.core.scopes import SCOPES

pytestmark = pytest.mark.django_db


def run(*args: str, **kwargs) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_ensure_operator_creates_a_superuser_with_a_generated_password(settings, tmp_path):
    # given
    settings.DATA_DIR = tmp_path
    # when
    output = run("ensure_operator", url="http://127.0.0.1:9000/admin/")
    # then
    password = json.loads((tmp_path / "operator.json").read_text())["operator"]
    user = get_user_model().objects.get(username="operator")
    assert user.is_superuser
    assert user.check_password(password)
    assert password not in {"admin", "operator", "password"}
    assert len(password) >= 12
    assert "http://127.0.0.1:9000/admin/" in output
    assert password in output


def test_ensure_operator_twice_keeps_and_prints_the_same_login(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    first = run("ensure_operator")
    second = run("ensure_operator")
    assert first == second
    assert get_user_model().objects.filter(username="operator").count() == 1


def test_ensure_operator_does_not_reset_a_password_someone_changed(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    run("ensure_operator")
    user = get_user_model().objects.get(username="operator")
    user.set_password("my own choice 123")
    user.save()
    output = run("ensure_operator")
    user.refresh_from_db()
    assert user.check_password("my own choice 123")
    assert "changed since it was generated" in output


def test_load_demo_is_idempotent():
    run("load_demo")
    counts = {model: model.objects.count() for model in (ApiKey,)}
    run("load_demo")
    assert {model: model.objects.count() for model in counts} == counts
    assert ApiKey.objects.filter(name="Demo service").count() == 1


def test_setup_periodic_tasks_updates_by_name_without_duplicates(settings):
    run("setup_periodic_tasks")
    run("setup_periodic_tasks")
    names = list(PeriodicTask.objects.values_list("name", flat=True))
    for name in settings.BEAT_SCHEDULE:
        assert names.count(name) == 1


def test_create_api_key_prints_a_working_key_with_every_scope():
    # when
    raw_key = run("create_api_key", "--name", "fuzz", "--all-scopes").strip()

    # then
    api_key = ApiKey.objects.get(name="fuzz")
    assert raw_key.startswith(f"bk_{api_key.prefix}_")
    assert set(api_key.scopes) == set(SCOPES)


def test_create_api_key_refuses_an_invalid_rate():
    with pytest.raises(CommandError, match="N/second, N/minute"):
        run("create_api_key", "--name", "x", "--scope", "usage:read", "--rate", "lots")
    assert not ApiKey.objects.exists()
