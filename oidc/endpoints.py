"""The issuer's token- and session-management endpoints: userinfo (OIDC Core §5.3), introspection
(RFC 7662), revocation (RFC 7009) and RP-initiated logout (OIDC RP-Initiated Logout 1.0), at
``/<orgSlug>/auth/...`` and at the paths upstream Porta's clients call (``oidc.endpoint_urls``).

The protocol is authlib's (``IntrospectionEndpoint``, ``RevocationEndpoint``,
``EndSessionEndpoint``, RFC 6750 bearer errors, ``UserInfo`` scope filtering), registered per
request on the organization's ``OrganizationServer``; what a token is worth comes from
``oidc.token_state``, and logging out from ``oidc.logout``. Clients authenticate as at the token
endpoint (``services.authenticate_client_for``: the registered method, any active secret).
"""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6750 import InsufficientScopeError, InvalidTokenError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import UserInfo
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from oidc import logout, services
from oidc.errors import OAuthError
from oidc.login import current_login
from oidc.provider import (
    DjangoOAuth2Request,
    OrganizationServer,
    oauth_error_response,
    server_for,
    throttle,
)
from oidc.token_state import InspectedToken, NotRevocable, inspect_token, token_revoke
from oidc.views import serves
from organizations.models import Organization
from porta.core.context import Actor

FORM = "application/x-www-form-urlencoded"


def _check_token_params(request) -> None:
    """``token`` is required; an unknown ``token_type_hint`` is ignored, not an error (RFC 7662
    §2.1 and RFC 7009 §2.1: the server extends its search across every type it supports)."""
    if not request.form.get("token"):
        raise InvalidRequestError("The token parameter is required")


class PortaIntrospection(IntrospectionEndpoint):
    def check_params(self, request, client) -> None:
        _check_token_params(request)

    def query_token(self, token_string: str, token_type_hint: str | None) -> InspectedToken | None:
        return inspect_token(self.server.organization, token_string, token_type_hint)

    def check_permission(self, token: InspectedToken, client, request) -> bool:
        """A confidential client (a resource server) may introspect any token of its
        organization; a public client only its own tokens."""
        return not client.is_public or token.client_id == client.get_client_id()

    def introspect_token(self, token: InspectedToken) -> dict:
        payload = {**token.claims, "active": True, "client_id": token.client_id}
        if token.kind == "access_token":
            payload["token_type"] = "Bearer"
        if token.user is not None:
            payload["username"] = token.user.email
        return payload


class PortaRevocation(RevocationEndpoint):
    def check_params(self, request, client) -> None:
        _check_token_params(request)

    def query_token(self, token_string: str, token_type_hint: str | None) -> InspectedToken | None:
        return inspect_token(self.server.organization, token_string, token_type_hint)

    def revoke_token(self, token: InspectedToken, request) -> None:
        if not token.active:  # already ended: nothing to do, and not an error (RFC 7009 §2.2)
            return
        client = request.client.model
        actor = Actor(type="client", id=client.id, label=client.client_id)
        try:
            token_revoke(actor=actor, token=token)
        except NotRevocable as exc:
            raise OAuthError("unsupported_token_type", str(exc)) from exc


def _protocol_server(org_slug: str, request: HttpRequest, endpoint: str) -> OrganizationServer:
    organization = services.token_organization(org_slug)
    limited = throttle(request, organization, endpoint=endpoint)
    if limited is not None:
        raise limited
    return server_for(organization)


def _token_endpoint(request: HttpRequest, org_slug: str, endpoint_cls, name: str) -> HttpResponse:
    if request.content_type != FORM:
        return oauth_error_response(OAuthError("invalid_request", f"Send the request as {FORM}"))
    try:
        server = _protocol_server(org_slug, request, name)
        server.register_endpoint(endpoint_cls)
        return server.create_endpoint_response(endpoint_cls.ENDPOINT_NAME, request)
    except OAuthError as error:
        return oauth_error_response(error)


@serves("POST")
def introspect(request: HttpRequest, org_slug: str) -> HttpResponse:
    """RFC 7662: ``{"active": false}`` for anything this issuer did not issue or no longer
    honours (crafted, tampered, expired, revoked, another organization's); the token's claims
    otherwise. The caller authenticates as a client of the organization."""
    return _token_endpoint(request, org_slug, PortaIntrospection, "introspect")


@serves("POST")
def revoke(request: HttpRequest, org_slug: str) -> HttpResponse:
    """RFC 7009: 200 whether or not the token was valid; a token of another client is refused
    (``invalid_grant``). Revoking a user's token ends its login session (``oidc.token_state``)."""
    return _token_endpoint(request, org_slug, PortaRevocation, "revoke")


# -- userinfo -------------------------------------------------------------------------------------

REALM = "porta"


def _bearer_token(request: HttpRequest) -> str | None:
    """The access token of an RFC 6750 §2.1 header or, on a form POST, §2.2 body (not both)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    in_body = request.POST.get("access_token") if request.method == "POST" else None
    if scheme.lower() == "bearer" and value.strip():
        if in_body:
            raise InvalidRequestError("Send the access token once, in the header or the body")
        return value.strip()
    return in_body or None


def userinfo_claims(token: InspectedToken) -> dict:
    """The user's standard claims for the scopes the token was granted (OIDC Core §5.4, through
    authlib's scope map), plus what the claims resolver flags for userinfo (roles, permissions,
    custom claims with ``includeInUserinfo``, the organization)."""
    from oidc.claims import resolve_claims

    user = token.user
    name = " ".join(part for part in (user.given_name, user.family_name) if part)
    standard = {
        "sub": str(user.id),
        "name": name or None,
        "given_name": user.given_name or None,
        "family_name": user.family_name or None,
        "middle_name": user.middle_name,
        "nickname": user.nickname,
        "preferred_username": user.preferred_username,
        "profile": user.profile_url,
        "picture": user.picture_url,
        "website": user.website_url,
        "gender": user.gender,
        "birthdate": user.birthdate.isoformat() if user.birthdate else None,
        "zoneinfo": user.zoneinfo,
        "locale": user.locale,
        "updated_at": int(user.updated_at.timestamp()),
        "email": user.email,
        "email_verified": user.email_verified,
        "phone_number": user.phone_number,
        "phone_number_verified": user.phone_number_verified if user.phone_number else None,
        "address": user.address,
    }
    granted = UserInfo({key: value for key, value in standard.items() if value is not None})
    extra = resolve_claims(
        organization=token.organization, client=token.client, user=user, token_type="userinfo"
    )
    return {**extra, **granted.filter(token.get_scope())}


@csrf_exempt
def userinfo(request: HttpRequest, org_slug: str) -> HttpResponse:
    """OIDC Core §5.3: the signed-in user's claims for a live access token with ``openid``.
    RFC 6750 errors: no or bad token → 401 ``invalid_token`` (with ``WWW-Authenticate``), a token
    without ``openid`` → 403 ``insufficient_scope``."""
    if request.method not in ("GET", "POST"):
        error = OAuthError(
            "invalid_request", f"Method {request.method} is not allowed; use GET or POST", status=405,
            headers={"Allow": "GET, POST"},
        )  # fmt: skip
        return oauth_error_response(error)
    try:
        server = _protocol_server(org_slug, request, "userinfo")
    except OAuthError as error:
        return oauth_error_response(error)
    oauth_request = server.create_oauth2_request(request)
    try:
        raw = _bearer_token(request)
        if raw is None:
            return server.handle_response(
                401,
                {"error": "invalid_token", "error_description": "An access token is required"},
                [("WWW-Authenticate", f'Bearer realm="{REALM}"')],
            )
        token = inspect_token(server.organization, raw, "access_token")
        if token is None or token.kind != "access_token" or not token.active:
            raise InvalidTokenError(realm=REALM)
        if token.user is None:
            raise InvalidTokenError("The token was not issued to a user", realm=REALM)
        if "openid" not in token.get_scope().split():
            raise InsufficientScopeError("The token was not granted the openid scope")
        return server.handle_response(200, userinfo_claims(token), [])
    except OAuth2Error as error:
        return server.handle_error_response(oauth_request, error)


# -- end-session ----------------------------------------------------------------------------------


def _confirmed(request: HttpRequest) -> bool:
    """The person confirmed on our own page: a POST of its form, with its CSRF token."""
    if request.method != "POST" or request.POST.get("action") != "logout":
        return False
    return CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}) is None


def _organization_or_page(request: HttpRequest, org_slug: str) -> Organization | HttpResponse:
    try:
        organization = services.token_organization(org_slug)
    except OAuthError as error:
        suspended = Organization.objects.filter(slug=org_slug).first() if error.status == 403 else None
        return logout.error_page(request, suspended, error.status)
    limited = throttle(request, organization, endpoint="end_session")
    if limited is not None:
        response = logout.error_page(request, organization, 429)
        response["Retry-After"] = limited.headers["Retry-After"]
        return response
    return organization


@csrf_exempt
@never_cache
def end_session(request: HttpRequest, org_slug: str) -> HttpResponse:
    """RP-initiated logout (GET or POST, as the spec asks). With a valid ``id_token_hint`` the
    login ends at once; without one the person confirms on a page first (§6). The browser is
    sent to ``post_logout_redirect_uri`` (with ``state``) only when the client registered exactly
    that URI and the request is legitimate (a valid hint, or the confirmation); otherwise a
    "signed out" page is shown. An invalid hint (another issuer, a bad signature) is refused
    with no redirect at all (§4)."""
    found = _organization_or_page(request, org_slug)
    if isinstance(found, HttpResponse):
        return found
    organization = found
    if request.method not in ("GET", "POST"):
        response = logout.error_page(request, organization, 405)
        response["Allow"] = "GET, POST"
        return response
    server = server_for(organization)
    server.register_endpoint(logout.PortaEndSession)
    params = request.POST if request.method == "POST" else request.GET
    oauth_request = DjangoOAuth2Request(request, organization, params=params)
    oauth_request.porta_confirmed = _confirmed(request)
    locale = logout.locale_for(organization, params.get("ui_locales"))
    try:
        validated = server.validate_endpoint_request("end_session", oauth_request)
    except OAuth2Error as error:
        return logout.error_page(request, organization, 400, detail=error.description, locale=locale)
    unconfirmed = validated.needs_confirmation and not oauth_request.porta_confirmed
    if unconfirmed and current_login(request, organization) is not None:
        return logout.confirm_page(request, organization, locale, validated)
    response = server.create_endpoint_response("end_session", validated)
    return response or logout.signed_out_page(request, organization, locale)
