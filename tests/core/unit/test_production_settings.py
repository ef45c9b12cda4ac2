import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def load_production_settings(**overrides: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"}
    }
    env.update(overrides, DJANGO_SETTINGS_MODULE="billing_site.settings.production")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = load_production_settings()
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("_case", "secret_key"),
    [("too short", "abc"), ("placeholder", "local-development-only-not-a-secret-xxxxxxxx")],
)
def test_production_refuses_a_weak_secret_key(_case, secret_key):
    result = load_production_settings(
        SECRET_KEY=secret_key, STRIPE_SECRET_KEY="sk_x", STRIPE_WEBHOOK_SECRET="whsec_x"
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be a real secret" in result.stderr


def test_production_refuses_to_start_without_stripe_secrets():
    result = load_production_settings(SECRET_KEY="k" * 50)
    assert result.returncode != 0
    assert "STRIPE_SECRET_KEY must be set in production" in result.stderr


def test_production_starts_with_every_secret_given():
    result = load_production_settings(
        SECRET_KEY="k" * 50, STRIPE_SECRET_KEY="sk_test_x", STRIPE_WEBHOOK_SECRET="whsec_x"
    )
    assert result.returncode == 0, result.stderr
