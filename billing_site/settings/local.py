"""Settings for a developer's machine: `make run` and manage.py on embedded defaults."""

import os

os.environ.setdefault("SECRET_KEY", "local-development-only-not-a-secret")
os.environ.setdefault("DEBUG", "false")

from billing_site.settings.base import *  # noqa: E402,F403
