"""Reads of custom claims, and the custom claims a token of an application carries for a user."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from applications.models import ClaimValue

TOKEN_FLAGS = {
    "id_token": "claim__include_in_id_token",
    "access_token": "claim__include_in_access_token",
    "userinfo": "claim__include_in_userinfo",
}


def values_of_user(application_id: uuid.UUID, user_id: uuid.UUID) -> QuerySet[ClaimValue]:
    return (
        ClaimValue.objects.filter(claim__application_id=application_id, user_id=user_id)
        .select_related("claim")
        .order_by("claim__name")
    )


def all_values_of_user(user_id: uuid.UUID) -> QuerySet[ClaimValue]:
    """The user's claim values of every application, oldest first."""
    return ClaimValue.objects.filter(user_id=user_id).select_related("claim").order_by("created_at", "id")


def token_custom_claims(
    *, user_id: uuid.UUID | str, application_id: uuid.UUID | str, token_type: str
) -> dict[str, Any]:
    """The custom claims a token of ``token_type`` ("id_token", "access_token" or "userinfo")
    carries for a user of an application: those flagged for that token, by name."""
    flag = TOKEN_FLAGS[token_type]
    custom = ClaimValue.objects.filter(
        claim__application_id=application_id, user_id=user_id, **{flag: True}
    ).values_list("claim__name", "value")
    return dict(custom)
