"""Settings of the processes a benchmark starts (manage.py, gunicorn): the local settings on the
benchmark's own database, named by BENCH_DATABASE_NAME (see bench/common.py)."""

import os

from billing_site.settings.local import *  # noqa: F403
from billing_site.settings.local import DATABASES

DATABASES["default"]["NAME"] = os.environ["BENCH_DATABASE_NAME"]
ROOT_URLCONF = "bench.urls"
