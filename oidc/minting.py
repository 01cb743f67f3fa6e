"""How tokens are minted: the one place every grant ends up (password, refresh, authorization
code, client credentials).

Access tokens and ID tokens are ES256 JWTs signed with the project keyring (``kid`` in the
header; ``typ`` ``at+jwt`` and ``JWT``). What they carry beyond the protocol claims comes from
``access_token_extra`` and ``id_token_extra`` — the seams the claims resolver (roles,
permissions, custom claims per application) plugs into. Refresh tokens are random, stored as a
keyed hash, and rotate within a family (``oidc.services.refresh_grant``).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from django.utils import timezone

from applications.models import ADMIN_APP_SLUG, Client
from keys.keyring import keyring
from keys.tokens import NoSigningKey, sign_access_token
from oidc.claims import resolve_claims
from oidc.errors import OAuthError
from oidc.issuers import ADMIN_API_AUDIENCE_PATH, issuer_for
from oidc.models import RefreshToken, Session
from organizations.models import Organization, User
from porta.core import liveconfig
from porta.core.metrics import TOKENS_ISSUED
from porta.core.tokens import keyed_hash, new_secret

ID_TOKEN_TYPE = "JWT"


@dataclass(frozen=True, slots=True)
class TokenResponse:
    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None = None
    id_token: str | None = None

    def as_dict(self) -> dict:
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        if self.id_token is not None:
            body["id_token"] = self.id_token
        body["scope"] = self.scope
        return body


def access_token_audience(organization: Organization, client: Client) -> str:
    """The admin issuer's tokens are for the admin API, and so are a tenant's tokens obtained by a
    client of the ``porta-admin`` application (the tenant's administrators signing in at their own
    issuer; authn scopes them to their organization). Any other tenant token is for the client
    itself, so a token a tenant application received can never be replayed at the admin API."""
    if organization.is_super_admin or client.application.slug == ADMIN_APP_SLUG:
        return settings.PORTA_PUBLIC_URL + ADMIN_API_AUDIENCE_PATH
    return client.client_id


def access_token_extra(
    *, organization: Organization, client: Client, user: User | None, scope: str
) -> dict[str, Any]:
    """Claims added to an access token beyond iss/sub/aud/client_id/org_id/scope/iat/exp/jti
    (and ``sid``). ``user`` is None for client_credentials."""
    return resolve_claims(organization=organization, client=client, user=user, token_type="access_token")


def id_token_extra(*, organization: Organization, client: Client, user: User, scope: str) -> dict[str, Any]:
    """Claims added to an ID token beyond the OIDC Core §2 ones."""
    return resolve_claims(organization=organization, client=client, user=user, token_type="id_token")


def _at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def sign_id_token(
    *,
    organization: Organization,
    client: Client,
    user: User,
    session: Session,
    scope: str,
    access_token: str,
    nonce: str | None,
    auth_time: int | None,
) -> str:
    ring = keyring()
    if ring.signing_key is None:
        raise NoSigningKey("No active signing key")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer_for(organization.slug),
        "sub": str(user.id),
        "aud": client.client_id,
        "azp": client.client_id,
        "iat": now,
        "exp": now + liveconfig.get("id_token_ttl"),
        "auth_time": auth_time if auth_time is not None else int(session.created_at.timestamp()),
        "sid": str(session.id),
        "at_hash": _at_hash(access_token),
        **id_token_extra(organization=organization, client=client, user=user, scope=scope),
    }
    if nonce:
        claims["nonce"] = nonce
    return jwt.encode(
        claims, ring.signing_key, algorithm="ES256", headers={"kid": ring.signing_kid, "typ": ID_TOKEN_TYPE}
    )


def mint_user_tokens(
    *,
    user: User,
    client: Client,
    organization: Organization,
    session: Session,
    scope: str,
    family_id: uuid.UUID,
    grant: str,
    refresh: bool = True,
    nonce: str | None = None,
    auth_time: int | None = None,
) -> TokenResponse:
    """Access token (never outliving its session), a new refresh token in ``family_id`` when
    ``refresh``, and an ID token when ``openid`` was granted. Call inside the grant's transaction."""
    remaining = int((session.expires_at - timezone.now()).total_seconds())
    ttl = max(1, min(liveconfig.get("access_token_ttl"), remaining))
    try:
        access_token, _claims = sign_access_token(
            subject=str(user.id),
            issuer=issuer_for(organization.slug),
            audience=access_token_audience(organization, client),
            client_id=client.client_id,
            organization_id=str(organization.id),
            scope=scope,
            ttl=ttl,
            extra={
                "sid": str(session.id),
                **access_token_extra(organization=organization, client=client, user=user, scope=scope),
            },
        )
        id_token = None
        if "openid" in scope.split() and grant != "password":
            id_token = sign_id_token(
                organization=organization, client=client, user=user, session=session, scope=scope,
                access_token=access_token, nonce=nonce, auth_time=auth_time,
            )  # fmt: skip
    except NoSigningKey as exc:
        raise OAuthError("server_error", "No signing key is available; run porta_init", status=503) from exc
    refresh_token = None
    if refresh:
        refresh_token = new_secret(32)
        RefreshToken.objects.create(
            token_hash=keyed_hash(refresh_token),
            family_id=family_id,
            user=user,
            client=client,
            organization=organization,
            session=session,
            scope=scope,
            expires_at=timezone.now() + datetime.timedelta(seconds=liveconfig.get("refresh_token_ttl")),
        )
    TOKENS_ISSUED.labels(grant_type=grant).inc()
    return TokenResponse(access_token, ttl, scope, refresh_token=refresh_token, id_token=id_token)


def mint_client_token(*, client: Client, organization: Organization, scope: str) -> TokenResponse:
    """client_credentials: an access token whose subject is the client itself; no refresh token,
    no ID token, no session (RFC 6749 §4.4.3)."""
    ttl = liveconfig.get("access_token_ttl")
    try:
        access_token, _claims = sign_access_token(
            subject=client.client_id,
            issuer=issuer_for(organization.slug),
            audience=access_token_audience(organization, client),
            client_id=client.client_id,
            organization_id=str(organization.id),
            scope=scope,
            ttl=ttl,
            extra=access_token_extra(organization=organization, client=client, user=None, scope=scope),
        )
    except NoSigningKey as exc:
        raise OAuthError("server_error", "No signing key is available; run porta_init", status=503) from exc
    TOKENS_ISSUED.labels(grant_type="client_credentials").inc()
    return TokenResponse(access_token, ttl, scope)
