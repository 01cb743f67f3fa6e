"""Login sessions and refresh tokens, all of one organization."""

from __future__ import annotations

import datetime
import uuid

import factory
from django.utils import timezone

from oidc.models import AuthorizationCode, RefreshToken, Session
from tests.factories.applications import ClientFactory
from tests.factories.organizations import OrganizationFactory, UserFactory


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory, organization=factory.SelfAttribute("..organization"))
    client = factory.SubFactory(ClientFactory, organization=factory.SelfAttribute("..organization"))
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=1))


class RefreshTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RefreshToken

    session = factory.SubFactory(SessionFactory)
    organization = factory.SelfAttribute("session.organization")
    user = factory.SelfAttribute("session.user")
    client = factory.SelfAttribute("session.client")
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    family_id = factory.LazyFunction(uuid.uuid4)
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))


class AuthorizationCodeFactory(factory.django.DjangoModelFactory):
    """A code already issued; its plaintext is not kept (the authorize endpoint issues usable ones)."""

    class Meta:
        model = AuthorizationCode

    session = factory.SubFactory(SessionFactory)
    organization = factory.SelfAttribute("session.organization")
    user = factory.SelfAttribute("session.user")
    client = factory.SelfAttribute("session.client")
    code_hash = factory.Sequence(lambda n: f"c{n:063x}")
    redirect_uri = "https://app.example.com/callback"
    scope = "openid"
    auth_time = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(minutes=1))
