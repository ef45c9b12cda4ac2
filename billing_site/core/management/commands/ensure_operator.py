"""Make sure an operator login exists; print where and how to log in.

The generated password is kept in .data/operator.json (mode 0600) so that later runs can print it
again; if someone changed the password since, it says so instead of resetting it.
"""

import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Create the operator superuser if missing and print its login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="operator")
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/")

    def handle(self, *args: object, username: str, url: str, **options: object) -> None:
        credentials_file = settings.DATA_DIR / "operator.json"
        stored = {}
        if credentials_file.exists():
            stored = json.loads(credentials_file.read_text())
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        password = stored.get(username)
        if user is None:
            password = secrets.token_urlsafe(12)
            user = user_model.objects.create_superuser(
                username=username, email=f"{username}@localhost", password=password
            )
        elif password is None or not user.check_password(password):
            password = None
        if password:
            settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
            credentials_file.write_text(json.dumps({**stored, username: password}))
            credentials_file.chmod(0o600)
        shown = password or "(changed since it was generated; use yours)"
        self.stdout.write(
            self.style.SUCCESS("Operator login")
            + f"\n  URL:      {url}\n  user:     {username}\n  password: {shown}\n"
        )
