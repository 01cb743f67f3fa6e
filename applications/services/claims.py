"""Writes to custom claim definitions and their per-user values, one transaction each, audited
with the upstream event names (claim.defined, claim.updated, claim.deleted, claim.value.set,
claim.value.deleted)."""

from __future__ import annotations

import math
import re
from typing import Any

from django.db import IntegrityError, transaction

from applications.models import Application, ClaimDefinition, ClaimType, ClaimValue
from audit.writes import Audited, Precondition, lock, wire_fields
from organizations.models import User
from porta.core.context import Actor
from porta.core.errors import Conflict, ValidationFailed

CLAIM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
RESERVED_CLAIM_NAMES = frozenset(
    [
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "nbf",
        "jti",
        "nonce",
        "at_hash",
        "c_hash",
        "name",
        "given_name",
        "family_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "email",
        "email_verified",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "phone_number",
        "phone_number_verified",
        "address",
        "updated_at",
        "roles",
        "permissions",
        "org_id",
        "org_slug",
        # What Porta's tokens carry beyond the upstream list (RFC 9068, OIDC Core), and JWT/OAuth
        # names a relying party would misread (RFC 7519, RFC 8693): a custom claim never
        # displaces them (oidc.claims leaves out any defined before they were reserved).
        "client_id",
        "scope",
        "sid",
        "azp",
        "auth_time",
        "acr",
        "amr",
        "typ",
        "cnf",
        "act",
        "may_act",
        "events",
    ]
)
UPDATABLE_FIELDS = ("description", "include_in_id_token", "include_in_access_token", "include_in_userinfo")

#: Claims are global (their application's); entries carry no organization.
AUDITED = Audited(
    target_type="claim",
    fields=wire_fields(*UPDATABLE_FIELDS, name="claimName", claim_type="claimType"),
    metadata=lambda claim: {"applicationId": str(claim.application_id)},
)
#: A user's value of a claim: its entries record the value and name the claim and the user.
VALUE_AUDITED = Audited(
    target_type="claim_value",
    fields=wire_fields("value"),
    metadata=lambda value: {"claimId": str(value.claim_id), "userId": str(value.user_id)},
)


def name_problem(name: str) -> str | None:
    if not CLAIM_NAME.match(name):
        return "Must match ^[a-z][a-z0-9_]{0,99}$."
    if name in RESERVED_CLAIM_NAMES:
        return f"'{name}' is a reserved claim name."
    return None


def value_problem(claim_type: str, value: Any) -> str | None:
    """Why ``value`` is not a valid value of a claim of ``claim_type``; None when it is."""
    if value is None:
        return "Null is not a valid value."
    if claim_type == ClaimType.STRING and not isinstance(value, str):
        return "Must be a string."
    if claim_type == ClaimType.BOOLEAN and not isinstance(value, bool):
        return "Must be true or false."
    if claim_type == ClaimType.NUMBER and (
        isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
    ):
        return "Must be a finite number."
    return None


@transaction.atomic
def claim_create(
    *,
    actor: Actor,
    application: Application,
    name: str,
    claim_type: str,
    description: str | None = None,
    include_in_id_token: bool = False,
    include_in_access_token: bool = False,
    include_in_userinfo: bool = False,
) -> ClaimDefinition:
    """Define a claim; the name follows the pattern, is not reserved and is unique in the app."""
    if (problem := name_problem(name)) is not None:
        raise ValidationFailed(problem, details={"claimName": [problem]})
    claim = ClaimDefinition(
        application=application,
        name=name,
        claim_type=claim_type,
        description=description,
        include_in_id_token=include_in_id_token,
        include_in_access_token=include_in_access_token,
        include_in_userinfo=include_in_userinfo,
    )
    try:
        with transaction.atomic():
            claim.save(force_insert=True)
    except IntegrityError as exc:
        raise Conflict(
            f"Claim '{name}' already exists", details={"claimName": ["Claim name already in use"]}
        ) from exc
    AUDITED.record_created("claim.defined", actor=actor, row=claim)
    return claim


@transaction.atomic
def claim_update(
    *,
    actor: Actor,
    claim: ClaimDefinition,
    name: str | None = None,
    claim_type: str | None = None,
    precondition: Precondition | None = None,
    **changes: Any,
) -> ClaimDefinition:
    """Change the description and the token flags; name and type are immutable."""
    claim = lock(claim, precondition)
    if name is not None and name != claim.name:
        raise ValidationFailed("The name of a claim cannot be changed", details={"claimName": ["Immutable."]})
    if claim_type is not None and claim_type != claim.claim_type:
        raise ValidationFailed("The type of a claim cannot be changed", details={"claimType": ["Immutable."]})
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not updatable: {sorted(unknown)}")
    with AUDITED.change("claim.updated", actor=actor, row=claim):
        for field, value in changes.items():
            setattr(claim, field, value)
        claim.save()
    return claim


@transaction.atomic
def claim_delete(*, actor: Actor, claim: ClaimDefinition, precondition: Precondition | None = None) -> None:
    """Delete a definition and, with it, every value of it."""
    claim = lock(claim, precondition)
    AUDITED.record_deleted("claim.deleted", actor=actor, row=claim)
    claim.delete()


@transaction.atomic
def value_set(*, actor: Actor, claim: ClaimDefinition, user: User, value: Any) -> ClaimValue:
    """Set (create or replace) a user's value of a claim, checked against the claim's type."""
    if (problem := value_problem(claim.claim_type, value)) is not None:
        message = f"Invalid value for claim '{claim.name}': {problem}"
        raise ValidationFailed(message, details={"value": [message]})
    existing = ClaimValue.objects.select_for_update().filter(claim=claim, user=user).first()
    before = existing.value if existing is not None else None
    if existing is None:
        row = ClaimValue.objects.create(claim=claim, user=user, value=value)
    else:
        existing.value = value
        existing.save()
        row = existing
    # The value as set, even when it is the value already held (a set is always recorded).
    VALUE_AUDITED.record(
        "claim.value.set",
        actor=actor,
        row=row,
        changes={"value": {"before": before, "after": value}},
        metadata={"claimName": claim.name},
    )
    return row


@transaction.atomic
def value_delete(*, actor: Actor, value: ClaimValue) -> None:
    """Remove a user's value of a claim."""
    VALUE_AUDITED.record_deleted("claim.value.deleted", actor=actor, row=value)
    value.delete()
