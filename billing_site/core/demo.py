"""Demo data of the core app: one API key for trying the API by hand."""

from typing import TextIO

from billing_site.core.models import ApiKey
from billing_site.core.scopes import SCOPES
from billing_site.core.services import api_key_create

DEMO_KEY_NAME = "Demo service"


def load(stdout: TextIO) -> None:
    if ApiKey.objects.filter(name=DEMO_KEY_NAME).exists():
        return
    _, raw_key = api_key_create(name=DEMO_KEY_NAME, scopes=list(SCOPES))
    stdout.write(f"Demo API key (all scopes; shown only now): {raw_key}\n")
