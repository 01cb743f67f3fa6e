"""Token issuance at ``/<orgSlug>/auth/token``: password and rotating refresh-token grants.

Errors are OAuth 2 errors (RFC 6749 §5.2), raised as ``OAuthError`` and rendered by the view.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import logging
import uuid
from dataclasses import dataclass
from urllib.parse import unquote_plus

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from applications.models import ApplicationStatus, Client, ClientStatus
from applications.services.clients import client_secret_verify
from audit import services as audit
from keys.tokens import NoSigningKey, sign_access_token
from oidc.issuers import ADMIN_API_AUDIENCE_PATH, issuer_for
from oidc.models import RefreshToken, Session
from oidc.session_services import session_revoke, session_start, session_touch
from organizations import login_services
from organizations.login_services import TOKEN_ENDPOINT
from organizations.models import Organization, OrganizationStatus, User, UserStatus
from organizations.user_services import AUDITED as USER_AUDITED
from porta.core import liveconfig
from porta.core.context import Actor, current_request_context
from porta.core.metrics import TOKENS_ISSUED
from porta.core.tokens import keyed_hash, new_secret

logger = logging.getLogger("porta.oidc")


class OAuthError(Exception):
    def __init__(
        self, error: str, description: str, status: int = 400, headers: dict[str, str] | None = None
    ):
        super().__init__(description)
        self.error, self.description, self.status, self.headers = error, description, status, headers or {}


@dataclass(frozen=True, slots=True)
class TokenResponse:
    access_token: str
    expires_in: int
    refresh_token: str
    scope: str

    def as_dict(self) -> dict:
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "scope": self.scope,
        }


def token_organization(org_slug: str) -> Organization:
    """The issuing organization: archived or unknown → 404, suspended → 403."""
    organization = Organization.objects.filter(slug=org_slug).first()
    if organization is None or organization.status == OrganizationStatus.ARCHIVED:
        raise OAuthError("invalid_request", "Organization not found", status=404)
    if organization.status == OrganizationStatus.SUSPENDED:
        raise OAuthError("access_denied", "Organization is suspended", status=403)
    return organization


def _client_credentials(request: HttpRequest) -> tuple[str, str | None, str]:
    """``(client_id, secret, method)`` as the request presents them (RFC 6749 §2.3.1): HTTP Basic
    with form-urlencoded id and secret, or ``client_id``/``client_secret`` form fields. Using both
    at once is refused."""
    form = request.POST
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        if form.get("client_secret"):  # an empty one, as some public-client libraries send, is none
            return form.get("client_id", ""), form.get("client_secret", ""), "client_secret_post"
        return form.get("client_id", ""), None, "none"
    if form.get("client_secret"):
        raise OAuthError("invalid_request", "Use one client authentication method, not two")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "Malformed Basic credentials", status=401) from exc
    raw_id, separator, raw_secret = decoded.partition(":")
    if not separator:
        raise OAuthError("invalid_client", "Malformed Basic credentials", status=401)
    client_id = unquote_plus(raw_id)
    if form.get("client_id", client_id) != client_id:
        raise OAuthError("invalid_client", "client_id does not match the Basic credentials", status=401)
    return client_id, unquote_plus(raw_secret), "client_secret_basic"


def authenticate_client(organization: Organization, request: HttpRequest, grant_type: str) -> Client:
    client_id, secret, method = _client_credentials(request)
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
        raise OAuthError("invalid_client", "Unknown or inactive client", status=401)
    if client.token_endpoint_auth_method != "none":
        # A confidential client authenticates the way it registered, with one of its secrets.
        if method != client.token_endpoint_auth_method or not secret:
            raise OAuthError(
                "invalid_client", f"Authenticate with {client.token_endpoint_auth_method}", status=401
            )
        if client_secret_verify(client_id=client.client_id, secret=secret) is None:
            raise OAuthError("invalid_client", "Invalid client credentials", status=401)
    elif method != "none":
        raise OAuthError("invalid_client", "This client does not authenticate with a secret", status=401)
    if grant_type not in client.grant_types:
        raise OAuthError("unauthorized_client", f"The client may not use the {grant_type} grant")
    return client


def _audience(organization: Organization, client: Client) -> str:
    if organization.is_super_admin:
        return settings.PORTA_PUBLIC_URL + ADMIN_API_AUDIENCE_PATH
    return client.client_id


def _granted_scope(client: Client, requested: str | None) -> str:
    allowed = client.scope.split()
    if not requested:
        return " ".join(allowed)
    wanted = requested.split()
    refused = [s for s in wanted if s not in allowed]
    if refused:
        raise OAuthError("invalid_scope", f"Scope not allowed for this client: {' '.join(refused)}")
    return " ".join(wanted)


def _issue(
    *,
    user: User,
    client: Client,
    organization: Organization,
    session: Session,
    scope: str,
    family_id: uuid.UUID,
    grant: str,
):
    # An access token never outlives its session: revoking the session ends every token it holds.
    remaining = int((session.expires_at - timezone.now()).total_seconds())
    ttl = max(1, min(liveconfig.get("access_token_ttl"), remaining))
    try:
        access_token, _claims = sign_access_token(
            subject=str(user.id),
            issuer=issuer_for(organization.slug),
            audience=_audience(organization, client),
            client_id=client.client_id,
            organization_id=str(organization.id),
            scope=scope,
            ttl=ttl,
            extra={"sid": str(session.id)},
        )
    except NoSigningKey as exc:
        raise OAuthError("server_error", "No signing key is available; run porta_init", status=503) from exc
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
    return TokenResponse(access_token, ttl, refresh_token, scope)


def password_grant(
    *,
    organization: Organization,
    client: Client,
    username: str,
    password: str,
    scope: str | None,
    ip: str,
) -> TokenResponse:
    granted_scope = _granted_scope(client, scope)
    try:
        user = login_services.password_login(
            organization=organization, email=username, password=password, channel=TOKEN_ENDPOINT, ip=ip
        )
    except login_services.LoginThrottled as refused:
        raise OAuthError(
            "slow_down", refused.message, status=429, headers={"Retry-After": str(refused.retry_after)}
        ) from refused
    except login_services.LoginRefused as refused:
        raise OAuthError("invalid_grant", refused.message) from refused
    with transaction.atomic():
        session = session_start(
            user=user, client=client, organization=organization, ip=ip,
            user_agent=current_request_context().user_agent,
        )  # fmt: skip
        response = _issue(
            user=user, client=client, organization=organization, session=session, scope=granted_scope,
            family_id=uuid.uuid4(), grant="password",
        )  # fmt: skip
        USER_AUDITED.record(
            "user.login",
            actor=Actor(type="user", id=user.id, label=user.email),
            row=user,
            metadata={"clientId": client.client_id, "grantType": "password", "sessionId": str(session.id)},
        )
    return response


def refresh_grant(
    *, organization: Organization, client: Client, refresh_token: str, scope: str | None
) -> TokenResponse:
    """Rotate: the presented token is spent and a new one issued in the same family. A spent
    token presented again means it leaked: the whole family is revoked (and that commits)."""
    outcome = _rotate_refresh_token(
        organization=organization, client=client, refresh_token=refresh_token, scope=scope
    )
    if isinstance(outcome, OAuthError):
        raise outcome
    return outcome


def _revoke_leaked_session(session: Session | None) -> bool:
    """A leaked refresh token means the whole login is suspect: its session is revoked too, so
    the access tokens it holds stop on the next request, not at their expiry."""
    if session is None or session.revoked_at is not None:
        return False
    session_revoke(actor=Actor.system("token_endpoint"), session=session)
    return True


@transaction.atomic
def _rotate_refresh_token(
    *, organization: Organization, client: Client, refresh_token: str, scope: str | None
) -> TokenResponse | OAuthError:
    found = (
        RefreshToken.objects.filter(token_hash=keyed_hash(refresh_token), organization=organization)
        .values_list("pk", "session_id")
        .first()
    )
    if found is None:
        raise OAuthError("invalid_grant", "Invalid refresh token")
    # Lock the session before the token, in the order revocation locks them (no deadlock), so a
    # refresh racing a revocation either finishes first or sees the session revoked.
    session = Session.objects.select_for_update().filter(pk=found[1]).first() if found[1] else None
    token = RefreshToken.objects.select_for_update().select_related("user").get(pk=found[0])
    now = timezone.now()
    if token.client_id != client.id:
        raise OAuthError("invalid_grant", "Invalid refresh token")
    if session is not None and session.revoked_at is not None:
        raise OAuthError("invalid_grant", "Session has been revoked")
    if session is not None and session.expires_at <= now:
        raise OAuthError("invalid_grant", "Session has expired")
    if token.used_at is not None or token.revoked_at is not None:
        revoked = RefreshToken.objects.filter(family_id=token.family_id, revoked_at__isnull=True).update(
            revoked_at=now
        )
        audit.record(
            event_type="token.refresh.reused",
            actor=Actor.system("token_endpoint"),
            organization_id=organization.id,
            target_type="user",
            target_id=token.user_id,
            metadata={
                "familyId": str(token.family_id),
                "revokedTokens": revoked,
                "sessionRevoked": _revoke_leaked_session(session),
            },
        )
        return OAuthError("invalid_grant", "Refresh token has already been used")
    if token.expires_at <= now:
        raise OAuthError("invalid_grant", "Refresh token has expired")
    user = token.user
    if user.status != UserStatus.ACTIVE:
        raise OAuthError("invalid_grant", "Account is not active")
    granted = token.scope
    if scope:
        wanted = scope.split()
        if any(s not in token.scope.split() for s in wanted):
            raise OAuthError("invalid_scope", "A refresh cannot widen the scope")
        granted = " ".join(wanted)
    token.used_at = now
    token.save(update_fields=["used_at"])
    if session is None:
        # A token issued before sessions existed: adopt it into a new session on first use.
        ctx = current_request_context()
        session = session_start(
            user=user, client=client, organization=organization, ip=ctx.ip, user_agent=ctx.user_agent
        )
    else:
        session_touch(session=session, now=now)
    return _issue(
        user=user, client=client, organization=organization, session=session, scope=granted,
        family_id=token.family_id, grant="refresh_token",
    )  # fmt: skip
