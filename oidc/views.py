"""Protocol endpoints of each organization's issuer (``/<orgSlug>/auth/...``)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import orjson
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from keys.keyring import keyring
from oidc import services
from oidc.errors import OAuthError
from oidc.metadata import GRANT_TYPES, provider_metadata
from oidc.provider import oauth_error_response, server_for, throttle

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _json(data, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(orjson.dumps(data), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


_oauth_error = oauth_error_response


def serves(*methods: str) -> Callable:
    """Like Django's ``require_http_methods``, but a method the endpoint does not serve gets a
    JSON body in the endpoint's own OAuth 2 error shape (and ``Allow``), not an empty 405.
    Protocol endpoints authenticate by header or body, never by cookie: no CSRF check."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in methods:
                allow = ", ".join(methods)
                return _oauth_error(
                    OAuthError(
                        "invalid_request",
                        f"Method {request.method} is not allowed; use {allow}",
                        status=405,
                        headers={"Allow": allow},
                    )
                )
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


@serves("POST")
def token(request: HttpRequest, org_slug: str) -> HttpResponse:
    """RFC 6749 token endpoint on the organization's authlib server: form-encoded in, JSON out,
    OAuth error bodies. Grants: authorization_code (+PKCE), client_credentials, password,
    refresh_token (``oidc.grants``)."""
    if request.content_type != "application/x-www-form-urlencoded":
        return _oauth_error(
            OAuthError("invalid_request", "Send the request as application/x-www-form-urlencoded")
        )
    form = request.POST
    if any("\x00" in value for values in form.lists() for value in values[1]):
        return _oauth_error(OAuthError("invalid_request", "NUL characters are not allowed"))
    try:
        organization = services.token_organization(org_slug)
        limited = throttle(request, organization, endpoint="token")
        if limited is not None:
            raise limited
        grant_type = form.get("grant_type", "")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type not in GRANT_TYPES:
            raise OAuthError("unsupported_grant_type", f"Unsupported grant_type: {grant_type}")
        return server_for(organization).create_token_response(request)
    except OAuthError as error:
        return _oauth_error(error)


@serves("GET")
def discovery(request: HttpRequest, org_slug: str) -> HttpResponse:
    """OpenID Provider metadata of the organization's issuer (OIDC Discovery 1.0 §3)."""
    try:
        services.token_organization(org_slug)
    except OAuthError as error:
        return _oauth_error(error)
    response = _json(provider_metadata(org_slug))
    response["Cache-Control"] = "public, max-age=300"
    return response


@serves("GET")
def jwks(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Public signing keys. Keys are shared by every issuer; the slug only has to exist.

    The document and its strong ETag are built once per keyring (so per key change, per process).
    A short max-age bounds how long a relying party trusts a revoked key; a ``next`` key is
    published a whole rotation period before it signs, so revalidating often costs no surprises,
    and a revalidation with ``If-None-Match`` is a bodiless 304."""
    try:
        services.token_organization(org_slug)
    except OAuthError as error:
        return _oauth_error(error)
    ring = keyring()
    headers = {"Cache-Control": "public, max-age=60", "ETag": ring.jwks_etag}
    offered = [tag.strip().removeprefix("W/") for tag in request.headers.get("If-None-Match", "").split(",")]
    if ring.jwks_etag in offered or "*" in offered:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(ring.jwks_bytes, content_type="application/json")
    for name, value in headers.items():
        response[name] = value
    return response
