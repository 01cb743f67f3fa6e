"""Issued API keys and their per-organization settings (rows only: the secret is not kept;
``issuedkeys.services`` issues usable keys)."""

from __future__ import annotations

import factory

from issuedkeys.models import DEFAULT_PREFIX, IssuedApiKey, IssuedApiKeySettings
from tests.factories.organizations import OrganizationFactory


class IssuedApiKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IssuedApiKey

    name = factory.Sequence(lambda n: f"Issued key {n}")
    organization = factory.SubFactory(OrganizationFactory)
    actor_id = factory.Sequence(lambda n: f"service-{n}")
    scopes = factory.LazyFunction(lambda: ["read"])
    prefix = DEFAULT_PREFIX
    secret_hash = factory.Sequence(lambda n: f"{n:064x}")
    pepper_id = "0123456789abcdef"
    last_four = "abcd"


class IssuedApiKeySettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IssuedApiKeySettings

    organization = factory.SubFactory(OrganizationFactory)
