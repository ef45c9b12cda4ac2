import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_admin_lists_show_dates_in_iso_order_with_their_time_zone(admin_client, make_api_key):
    # given
    key, _ = make_api_key(name="billing service")
    # when
    response = admin_client.get(reverse("admin:core_apikey_changelist"))
    # then
    created = key.created_at.strftime("%Y-%m-%d %H:%M")
    assert re.search(rf"{created} UTC", response.content.decode())
