"""Writes to admin API keys: minting (the plaintext leaves this module once, as the return value),
revocation, and moving batched ``lastUsedAt`` values to the database. Each write is audited in
its own transaction; neither the secret nor its hash ever reaches the audit trail."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apikeys import usage
from apikeys.models import GLOBAL_PREFIX, ORGANIZATION_PREFIX, AdminApiKey
from apikeys.selectors import API_KEYS_STAMP
from audit.transitions import Change, StateMachine, Transition, transition
from audit.writes import Audited, wire_fields
from organizations.services import organization_accepting_members
from porta.core import versions
from porta.core.context import Actor
from porta.core.errors import NotFound, ValidationFailed
from porta.core.tokens import keyed_hash, new_secret
from rbac.admin_roles import ADMIN_APP_SLUG
from rbac.grants import ensure_can_grant_roles
from rbac.models import Role
from rbac.selectors import AdminAuthorization

SECRET_BYTES = 32  # 256 bits
SECRET_WARNING = "Store the secret securely. It will not be shown again."


#: What a key is, never its secret or hash.
AUDITED = Audited(
    target_type="api_key",
    fields=wire_fields("name", "organization_id", "roles", "prefix", "last_four", "expires_at"),
    organization=lambda key: key.organization_id,
)
#: A key has no status column: it is revoked once its ``revoked_at`` is set, for good.
API_KEY_TRANSITIONS: dict[str, Transition] = {
    "revoke": Transition(frozenset({"active"}), "revoked", "api_key.revoked"),
}


def _check_roles(roles: Sequence[str]) -> list[str]:
    slugs = sorted(set(roles))
    if not slugs:
        raise ValidationFailed(
            "An API key needs at least one role", details={"roles": ["Must not be empty."]}
        )
    known = set(
        Role.objects.filter(
            application__slug=ADMIN_APP_SLUG, slug__in=slugs, slug__startswith="porta-"
        ).values_list("slug", flat=True)
    )
    unknown = [slug for slug in slugs if slug not in known]
    if unknown:
        message = f"Unknown admin role(s): {', '.join(unknown)}"
        raise ValidationFailed(message, details={"roles": [message]})
    return slugs


@transaction.atomic
def api_key_create(
    *,
    actor: Actor,
    authorization: AdminAuthorization,
    created_by_id: uuid.UUID,
    name: str,
    organization_id: uuid.UUID | None,
    roles: Sequence[str],
    expires_at: datetime.datetime | None = None,
) -> tuple[AdminApiKey, str]:
    """Mint a key holding ``roles``, scoped to ``organization_id`` (None: every organization).

    ``authorization`` is the minting caller's: nobody can hand a key a role whose permissions
    they do not hold themselves (403).
    """
    slugs = _check_roles(roles)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(
            "expiresAt must be in the future", details={"expiresAt": ["Must be in the future."]}
        )
    ensure_can_grant_roles(authorization, slugs)
    if organization_id is not None and organization_accepting_members(organization_id) is None:
        raise NotFound("Organization not found")
    prefix = GLOBAL_PREFIX if organization_id is None else ORGANIZATION_PREFIX
    plaintext = f"{prefix}_{new_secret(SECRET_BYTES)}"
    key = AdminApiKey.objects.create(
        name=name,
        organization_id=organization_id,
        roles=slugs,
        prefix=prefix,
        secret_hash=keyed_hash(plaintext),
        last_four=plaintext[-4:],
        expires_at=expires_at,
        created_by_id=created_by_id,
    )
    AUDITED.record_created("api_key.created", actor=actor, row=key)
    return key, plaintext


def _revocation_state(key: AdminApiKey) -> str:
    return "revoked" if key.revoked_at is not None else "active"


def _stamp_revocation(key: AdminApiKey, change: Change) -> None:
    key.revoked_at = change.now
    change.save_fields.append("revoked_at")
    change.metadata.update(name=key.name, lastFour=key.last_four)


API_KEY_STATUS = StateMachine(
    noun="API key",
    table=API_KEY_TRANSITIONS,
    audited=AUDITED,
    field=None,
    state=_revocation_state,
    effect=_stamp_revocation,
    refusal="API key is already {state}",
)


@transaction.atomic
def api_key_revoke(*, actor: Actor, key: AdminApiKey) -> AdminApiKey:
    """Irreversible; the row stays for the audit trail. Every process refuses the key on its next
    request (the API_KEYS stamp is bumped once the revocation is committed)."""
    key = transition(API_KEY_STATUS, key, "revoke", actor=actor)
    # Bumped now and again once committed: a process that refetched the row in between (and saw
    # it unrevoked) would otherwise keep that stale copy under the new stamp.
    versions.bump(API_KEYS_STAMP)
    transaction.on_commit(lambda: versions.bump(API_KEYS_STAMP))
    return key


def api_keys_flush_last_used() -> int:
    """Move the uses noted since the last flush to ``last_used_at`` (never backwards). Returns
    how many keys were updated. ``updated_at`` is left alone: a use is not a change of the key."""
    updated = 0
    for key_id, used_at in usage.take_pending().items():
        updated += AdminApiKey.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=used_at), pk=key_id
        ).update(last_used_at=used_at)
    return updated
