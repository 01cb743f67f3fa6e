"""What the grants do at ``/<orgSlug>/auth/token`` and ``/auth/authorize``: password, rotating
refresh tokens, authorization codes (issued at login, exchanged once) and client credentials.
The protocol checks (parameters, PKCE, redirect URIs) are authlib's, in ``oidc.grants``.

Errors are OAuth 2 errors (RFC 6749 §5.2), raised as ``OAuthError`` and rendered by the view.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import logging
import uuid
from urllib.parse import unquote_plus

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from applications.models import ApplicationStatus, Client, ClientStatus
from applications.services.clients import client_secret_verify
from audit import services as audit
from oidc.errors import OAuthError
from oidc.minting import TokenResponse, mint_client_token, mint_user_tokens
from oidc.models import AuthorizationCode, RefreshToken, Session
from oidc.session_services import session_revoke, session_start, session_touch
from organizations import login_services
from organizations.login_services import TOKEN_ENDPOINT
from organizations.models import Organization, OrganizationStatus, User, UserStatus
from organizations.user_services import AUDITED as USER_AUDITED
from porta.core.context import Actor, current_request_context
from porta.core.tokens import keyed_hash

logger = logging.getLogger("porta.oidc")


def token_organization(org_slug: str) -> Organization:
    """The issuing organization: archived or unknown → 404, suspended → 403."""
    organization = Organization.objects.filter(slug=org_slug).first()
    if organization is None or organization.status == OrganizationStatus.ARCHIVED:
        raise OAuthError("invalid_request", "Organization not found", status=404)
    if organization.status == OrganizationStatus.SUSPENDED:
        raise OAuthError("access_denied", "Organization is suspended", status=403)
    return organization


def client_credentials_presented(request: HttpRequest) -> tuple[str, str | None, str]:
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
    secret = unquote_plus(raw_secret)
    if "\x00" in client_id or "\x00" in secret:
        raise OAuthError("invalid_client", "Malformed Basic credentials", status=401)
    if form.get("client_id", client_id) != client_id:
        raise OAuthError("invalid_client", "client_id does not match the Basic credentials", status=401)
    return client_id, secret, "client_secret_basic"


def authenticate_client_for(organization: Organization, request: HttpRequest) -> tuple[Client, str]:
    """The client this request authenticates as, and how (``client_secret_basic``,
    ``client_secret_post`` or ``none``). A confidential client authenticates the way it
    registered, with any one of its active secrets (so secrets rotate without downtime); a public
    one presents no secret. Every protocol endpoint that authenticates clients calls this."""
    client_id, secret, method = client_credentials_presented(request)
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
        if method != client.token_endpoint_auth_method or not secret:
            raise OAuthError(
                "invalid_client", f"Authenticate with {client.token_endpoint_auth_method}", status=401
            )
        if client_secret_verify(client_id=client.client_id, secret=secret) is None:
            raise OAuthError("invalid_client", "Invalid client credentials", status=401)
    elif method != "none":
        raise OAuthError("invalid_client", "This client does not authenticate with a secret", status=401)
    return client, method


def authenticate_client(organization: Organization, request: HttpRequest, grant_type: str) -> Client:
    client, _method = authenticate_client_for(organization, request)
    if grant_type not in client.grant_types:
        raise OAuthError("unauthorized_client", f"The client may not use the {grant_type} grant")
    return client


def _granted_scope(client: Client, requested: str | None) -> str:
    allowed = client.scope.split()
    if not requested:
        return " ".join(allowed)
    wanted = requested.split()
    refused = [s for s in wanted if s not in allowed]
    if refused:
        raise OAuthError("invalid_scope", f"Scope not allowed for this client: {' '.join(refused)}")
    return " ".join(wanted)


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
        response = mint_user_tokens(
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
    return mint_user_tokens(
        user=user, client=client, organization=organization, session=session, scope=granted,
        family_id=token.family_id, grant="refresh_token",
    )  # fmt: skip


def client_credentials_grant(
    *, organization: Organization, client: Client, scope: str | None
) -> TokenResponse:
    """RFC 6749 §4.4: a confidential client's own token. Public clients never get here."""
    return mint_client_token(client=client, organization=organization, scope=_granted_scope(client, scope))


def login_session(*, user: User, client: Client, organization: Organization, ip: str | None) -> Session:
    """The session a login at the authorize endpoint starts (as a password grant starts one),
    audited as ``user.login`` with the channel it came through."""
    with transaction.atomic():
        session = session_start(
            user=user, client=client, organization=organization, ip=ip,
            user_agent=current_request_context().user_agent,
        )  # fmt: skip
        USER_AUDITED.record(
            "user.login",
            actor=Actor(type="user", id=user.id, label=user.email),
            row=user,
            metadata={"clientId": client.client_id, "channel": "login_page", "sessionId": str(session.id)},
        )
    return session


def authorization_code_save(
    *,
    code: str,
    client: Client,
    user: User,
    session: Session,
    redirect_uri: str,
    scope: str,
    nonce: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
    auth_time: datetime.datetime,
) -> AuthorizationCode:
    return AuthorizationCode.objects.create(
        code_hash=keyed_hash(code),
        client=client,
        user=user,
        organization_id=client.organization_id,
        session=session,
        redirect_uri=redirect_uri,
        scope=scope,
        nonce=nonce or "",
        code_challenge=code_challenge or "",
        code_challenge_method=code_challenge_method or "",
        auth_time=auth_time,
        expires_at=timezone.now() + datetime.timedelta(seconds=settings.PORTA_AUTH_CODE_TTL),
    )


def authorization_code_spend(*, code: str, client: Client) -> AuthorizationCode | None:
    """The code, spent now (one atomic UPDATE, so two racing exchanges cannot both win), or None.

    A code presented a second time means it leaked: the tokens it was exchanged for (its
    refresh-token family) and its session are revoked (RFC 6749 §4.1.2)."""
    now = timezone.now()
    digest = keyed_hash(code)
    spent = AuthorizationCode.objects.filter(
        code_hash=digest, client=client, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    row = (
        AuthorizationCode.objects.select_related("user", "session")
        .filter(code_hash=digest, client=client)
        .first()
    )
    if row is None:
        return None
    if spent:
        return row
    if row.used_at is not None:
        with transaction.atomic():
            # The session before its tokens, in the order every revocation locks them: two
            # replays racing each other (or a revocation) must not deadlock.
            session = Session.objects.select_for_update().filter(pk=row.session_id).first()
            revoked = RefreshToken.objects.filter(family_id=row.family_id, revoked_at__isnull=True).update(
                revoked_at=now
            )
            session_revoked = _revoke_leaked_session(session)
            audit.record(
                event_type="token.code.reused",
                actor=Actor.system("token_endpoint"),
                organization_id=row.organization_id,
                target_type="user",
                target_id=row.user_id,
                metadata={
                    "clientId": client.client_id,
                    "familyId": str(row.family_id),
                    "revokedTokens": revoked,
                    "sessionRevoked": session_revoked,
                },
            )
    return None


def authorization_code_grant(
    *, organization: Organization, client: Client, code: AuthorizationCode
) -> TokenResponse:
    """Exchange a spent-just-now code: tokens in the code's family, bound to its login session."""
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=code.session_id)
        now = timezone.now()
        if session.revoked_at is not None or session.expires_at <= now:
            raise OAuthError("invalid_grant", "The login session has ended")
        user = User.objects.get(pk=code.user_id)
        if user.status != UserStatus.ACTIVE:
            raise OAuthError("invalid_grant", "Account is not active")
        session_touch(session=session, now=now)
        return mint_user_tokens(
            user=user, client=client, organization=organization, session=session, scope=code.scope,
            family_id=code.family_id, grant="authorization_code",
            refresh="refresh_token" in client.grant_types, nonce=code.nonce or None,
            auth_time=int(code.auth_time.timestamp()),
        )  # fmt: skip
