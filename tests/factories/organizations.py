"""Organizations, their users and invitations."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from organizations.models import Invitation, Organization, User


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"organization-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.django.Password("password-123")


class InvitationFactory(factory.django.DjangoModelFactory):
    """An open invitation; its token is not kept (``invitations.services.user_invite`` issues
    usable ones)."""

    class Meta:
        model = Invitation

    user = factory.SubFactory(UserFactory)
    organization = factory.SelfAttribute("user.organization")
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))
