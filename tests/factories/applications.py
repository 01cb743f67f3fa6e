"""Applications, their modules, OIDC clients and secrets, custom claims and their values.

Rows only: a client made here has no usable secret (``tests.client_factories.make_client``
makes one through the service when a test needs to authenticate with it)."""

from __future__ import annotations

import factory

from applications.models import (
    Application,
    ClaimDefinition,
    ClaimType,
    ClaimValue,
    Client,
    ClientSecret,
    Module,
)
from tests.factories.organizations import OrganizationFactory, UserFactory


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    name = factory.Sequence(lambda n: f"Application {n}")
    slug = factory.Sequence(lambda n: f"application-{n}")


class ModuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Module

    application = factory.SubFactory(ApplicationFactory)
    name = factory.Sequence(lambda n: f"Module {n}")
    slug = factory.Sequence(lambda n: f"module-{n}")


class ClientFactory(factory.django.DjangoModelFactory):
    """A public SPA client (no secret needed)."""

    class Meta:
        model = Client

    organization = factory.SubFactory(OrganizationFactory)
    application = factory.SubFactory(ApplicationFactory)
    client_id = factory.Sequence(lambda n: f"client-{n}")
    client_name = factory.Sequence(lambda n: f"Client {n}")
    client_type = "public"
    application_type = "spa"
    redirect_uris = factory.LazyFunction(lambda: ["https://app.example.com/callback"])
    grant_types = factory.LazyFunction(lambda: ["authorization_code", "refresh_token"])
    response_types = factory.LazyFunction(lambda: ["code"])


class ClientSecretFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientSecret

    client = factory.SubFactory(ClientFactory, client_type="confidential", application_type="web")
    secret_hash = factory.Sequence(lambda n: f"{n:064x}")


class ClaimDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClaimDefinition

    application = factory.SubFactory(ApplicationFactory)
    name = factory.Sequence(lambda n: f"claim_{n}")
    claim_type = ClaimType.STRING


class ClaimValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClaimValue

    claim = factory.SubFactory(ClaimDefinitionFactory)
    user = factory.SubFactory(UserFactory)
    value = "value"
