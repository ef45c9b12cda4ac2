from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from billing_site.core.models import ApiKey
from billing_site.core.scopes import SCOPES
from billing_site.core.services import api_key_create

ApiKeyFactory = Callable[..., tuple[ApiKey, str]]


@pytest.fixture
def make_api_key(db) -> ApiKeyFactory:
    def make(scopes: list[str] | None = None, **kwargs) -> tuple[ApiKey, str]:
        return api_key_create(
            name=kwargs.pop("name", "test service"),
            scopes=list(SCOPES) if scopes is None else scopes,
            **kwargs,
        )

    return make


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def authed_client(make_api_key: ApiKeyFactory) -> APIClient:
    """A client whose key holds every scope."""
    _, raw_key = make_api_key()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client
