"""Reads of login sessions."""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from oidc.models import Session


def sessions() -> QuerySet[Session]:
    """Every session. The representation needs only ids, so no join is made."""
    return Session.objects.all()


def sessions_of_user(user_id) -> QuerySet[Session]:
    """Every session of the user, revoked and expired ones too, oldest first."""
    return Session.objects.filter(user_id=user_id).order_by("created_at")


def active_q(now: datetime.datetime | None = None) -> Q:
    return Q(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


def active_sessions_for_user(user_id) -> QuerySet[Session]:
    return Session.objects.filter(active_q(), user_id=user_id)
