"""Admin API keys (rows only: the secret is not kept; ``apikeys.services`` issues usable keys)."""

from __future__ import annotations

import factory

from apikeys.models import AdminApiKey
from tests.factories.organizations import OrganizationFactory


class AdminApiKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdminApiKey

    name = factory.Sequence(lambda n: f"API key {n}")
    organization = factory.SubFactory(OrganizationFactory)
    roles = factory.LazyFunction(lambda: ["porta-org-admin"])
    prefix = factory.Sequence(lambda n: f"pk_{n:08d}")
    secret_hash = factory.Sequence(lambda n: f"{n:064x}")
    last_four = "abcd"
