"""Recovery tokens (rows only: the token is not kept; ``recovery.services`` issues usable ones)."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from recovery.models import RecoveryKind, RecoveryToken
from tests.factories.organizations import UserFactory


class RecoveryTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RecoveryToken

    user = factory.SubFactory(UserFactory)
    kind = RecoveryKind.LINK
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=1))
