"""Reads of users."""

from __future__ import annotations

from django.db.models import QuerySet

from organizations.models import User


def users() -> QuerySet[User]:
    return User.objects.all()
