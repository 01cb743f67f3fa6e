"""What a presented token is worth at one organization's issuer, and revoking it.

Introspection (RFC 7662), revocation (RFC 7009) and userinfo all start from ``inspect_token``:
the token string is looked up as an ES256 access token of *this* issuer (signature through the
keyring, ``typ=at+jwt``, ``iss`` equal to the organization's issuer, ``exp``) and otherwise as one
of the organization's refresh tokens (keyed hash). Its standing is then read from PostgreSQL: the
login session (revoked, expired), the user (still active), the client (still active). Anything
crafted, tampered, signed by a revoked key or issued by another organization is not found at all
(``None``); a token that is found but no longer good is ``active=False`` with the reason, for
logs — callers tell clients only ``active``.

Revocation ends what a token stands for. A user's token (access or refresh) belongs to one login
session of one client: revoking it revokes that session, so its refresh-token family and every
access token carrying its ``sid`` stop at once (RFC 7009 §2.1). A client's own token
(client_credentials) has no session and cannot be revoked (``unsupported_token_type``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt
from django.db import transaction
from django.utils import timezone

from applications.models import ApplicationStatus, Client, ClientStatus
from audit import services as audit
from keys.keyring import keyring
from keys.tokens import ACCESS_TOKEN_TYPE, LEEWAY_SECONDS
from oidc.issuers import issuer_for
from oidc.models import RefreshToken, Session
from oidc.session_services import session_revoke
from organizations.models import Organization, User, UserStatus
from porta.core.context import Actor
from porta.core.tokens import keyed_hash

TokenKind = Literal["access_token", "refresh_token"]
#: Longest token string looked at: an access token with many roles and claims stays far below.
MAX_TOKEN_LENGTH = 16_384
REQUIRED_CLAIMS = ["exp", "iat", "iss", "sub", "aud", "jti", "client_id"]


@dataclass
class InspectedToken:
    """A token this issuer issued. ``claims`` are the access token's (or, for a refresh token,
    what introspection says of it); ``reason`` says why it is inactive."""

    kind: TokenKind
    organization: Organization
    client_id: str
    claims: dict[str, Any]
    user: User | None = None
    session: Session | None = None
    refresh: RefreshToken | None = None
    reason: str = ""
    client: Client | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return not self.reason

    # authlib's token interface (rfc7662 / rfc7009 / rfc6750 validators)
    def is_expired(self) -> bool:
        return self.reason == "expired"

    def is_revoked(self) -> bool:
        return bool(self.reason) and self.reason != "expired"

    def check_client(self, client) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.claims.get("scope", "")

    def get_client_id(self) -> str:
        return self.client_id


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def _verified_claims(organization: Organization, token: str) -> dict[str, Any] | None:
    """The claims of an access token this organization's issuer signed, or None. As the admin
    API verifies (``keys.tokens``): ES256 pinned, ``typ=at+jwt``, a ``kid`` of the keyring (revoked
    keys are not in it), the issuer. Expiry is the caller's to judge, so an expired token is known
    as expired rather than unknown; the audience is whatever the token names, since any of the
    organization's resource servers may ask."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return None
    if header.get("alg") != "ES256" or header.get("typ") != ACCESS_TOKEN_TYPE:
        return None
    key = keyring().verifying.get(str(header.get("kid") or ""))
    if key is None:
        return None
    try:
        return jwt.decode(
            token,
            key,
            algorithms=["ES256"],
            issuer=issuer_for(organization.slug),
            leeway=LEEWAY_SECONDS,  # for nbf: servers' clocks may differ by a little
            options={"verify_exp": False, "verify_aud": False, "require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError:
        return None


def _active_client(organization: Organization, client_id: str) -> Client | None:
    client = (
        Client.objects.select_related("application")
        .filter(client_id=client_id, organization=organization)
        .first()
    )
    if (
        client is None
        or client.status != ClientStatus.ACTIVE
        or client.application.status != ApplicationStatus.ACTIVE
    ):
        return None
    return client


def _session_reason(session: Session | None, now) -> str:
    if session is None:
        return "session_unknown"
    if session.revoked_at is not None:
        return "session_revoked"
    if session.expires_at <= now:
        return "session_expired"
    return ""


def _inspect_access(organization: Organization, token: str) -> InspectedToken | None:
    claims = _verified_claims(organization, token)
    if claims is None:
        return None
    client_id = str(claims.get("client_id") or "")
    inspected = InspectedToken("access_token", organization, client_id, claims)
    now = timezone.now()
    expiry = claims.get("exp")
    if not isinstance(expiry, int | float) or expiry <= now.timestamp():
        inspected.reason = "expired"
        return inspected
    inspected.client = _active_client(organization, client_id)
    if inspected.client is None:
        inspected.reason = "client_inactive"
        return inspected
    if "sid" not in claims:  # the client's own token (client_credentials)
        if claims.get("sub") != client_id:
            inspected.reason = "subject_unknown"
        return inspected
    session_id, user_id = _uuid(claims.get("sid")), _uuid(claims.get("sub"))
    session = (
        Session.objects.select_related("user")
        .filter(pk=session_id, organization=organization, user_id=user_id)
        .first()
        if session_id and user_id
        else None
    )
    inspected.session = session
    inspected.user = session.user if session else None
    inspected.reason = _session_reason(session, now)
    if not inspected.reason and inspected.user.status != UserStatus.ACTIVE:
        inspected.reason = "user_inactive"
    return inspected


def _refresh_claims(row: RefreshToken, client_id: str) -> dict[str, Any]:
    return {
        "iss": issuer_for(row.organization.slug),
        "sub": str(row.user_id),
        "client_id": client_id,
        "scope": row.scope,
        "iat": int(row.created_at.timestamp()),
        "exp": int(row.expires_at.timestamp()),
        "org_id": str(row.organization_id),
        "org_slug": row.organization.slug,
        **({"sid": str(row.session_id)} if row.session_id else {}),
    }


def _inspect_refresh(organization: Organization, token: str) -> InspectedToken | None:
    row = (
        RefreshToken.objects.select_related("user", "client", "session", "organization")
        .filter(token_hash=keyed_hash(token), organization=organization)
        .first()
    )
    if row is None:
        return None
    client_id = row.client.client_id
    inspected = InspectedToken(
        "refresh_token", organization, client_id, _refresh_claims(row, client_id),
        user=row.user, session=row.session, refresh=row,
    )  # fmt: skip
    now = timezone.now()
    if row.revoked_at is not None:
        inspected.reason = "revoked"
    elif row.used_at is not None:
        inspected.reason = "rotated"
    elif row.expires_at <= now:
        inspected.reason = "expired"
    elif row.session_id is not None and _session_reason(row.session, now):
        inspected.reason = _session_reason(row.session, now)
    elif row.user.status != UserStatus.ACTIVE:
        inspected.reason = "user_inactive"
    else:
        inspected.client = _active_client(organization, client_id)
        if inspected.client is None:
            inspected.reason = "client_inactive"
    return inspected


def inspect_token(organization: Organization, token: str, hint: str | None = None) -> InspectedToken | None:
    """The token as this organization's issuer knows it, or None when it never issued it. The
    hint only orders the look-ups (RFC 7662 §2.1: search every type when the hint misses)."""
    if not token or len(token) > MAX_TOKEN_LENGTH or "\x00" in token:
        return None
    lookups = [_inspect_access, _inspect_refresh]
    if hint == "refresh_token":
        lookups.reverse()
    for lookup in lookups:
        if lookup is _inspect_access and not _looks_like_jwt(token):
            continue
        found = lookup(organization, token)
        if found is not None:
            return found
    return None


class NotRevocable(Exception):
    """The token is genuine but nothing can be revoked for it (a client's own access token)."""


@transaction.atomic
def token_revoke(*, actor: Actor, token: InspectedToken) -> None:
    """End what ``token`` stands for (see the module docstring). Revoking a token that is already
    inactive changes nothing and is not an error (RFC 7009 §2.2). Audited as ``token.revoked``;
    the session's revocation is audited as ``session.revoked`` by the session service."""
    if token.kind == "access_token" and token.session is None:
        raise NotRevocable("An access token of the client itself cannot be revoked; let it expire")
    now = timezone.now()
    session = (
        Session.objects.select_for_update().filter(pk=token.session.pk).first() if token.session else None
    )
    family_revoked = 0
    if token.refresh is not None:
        family_revoked = RefreshToken.objects.filter(
            family_id=token.refresh.family_id, revoked_at__isnull=True
        ).update(revoked_at=now)
    session_ended = False
    if session is not None and session.revoked_at is None:
        session_revoke(actor=actor, session=session)
        session_ended = True
    metadata: dict[str, Any] = {
        "tokenType": token.kind,
        "clientId": token.client_id,
        "sessionId": str(session.id) if session else None,
        "sessionRevoked": session_ended,
        "revokedRefreshTokens": family_revoked,
    }
    if token.refresh is not None:
        metadata["familyId"] = str(token.refresh.family_id)
    if token.kind == "access_token":
        metadata["jti"] = token.claims.get("jti")
    audit.record(
        event_type="token.revoked",
        actor=actor,
        organization_id=token.organization.id,
        target_type="user",
        target_id=token.user.id,
        metadata=metadata,
    )
