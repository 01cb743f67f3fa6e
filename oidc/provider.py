"""The authorization server of one organization: authlib's RFC 6749 server bound to Django.

authlib ships no Django 5 server integration we rely on for per-organization issuers, so this
module is the small adapter it asks a framework to provide: a request wrapper
(``create_oauth2_request``), a response builder (``handle_response``), a client lookup scoped to
the organization (``query_client``) and client authentication through the applications service
(overlapping secrets, ``services.authenticate_client``). Grants live in ``oidc.grants``; what
tokens carry and how they are signed lives in ``oidc.minting`` (the project keyring, ES256).

A server is built per request with ``server_for(organization)`` — construction is a handful of
attribute writes — so nothing organization-specific is cached across requests and a status change
(suspended, archived, client disabled) takes effect on the next request.
"""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlsplit, urlunsplit

import orjson
from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict

from applications.models import ApplicationStatus, Client, ClientStatus
from applications.services.clients import client_secret_verify
from oidc import grants, services
from oidc.errors import OAuthError
from organizations.models import Organization
from porta.core import ratelimit
from porta.core.metrics import THROTTLED_REQUESTS

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

#: Scopes any client may be registered for; a client's own ``scope`` narrows them.
SCOPES_SUPPORTED = ["openid", "profile", "email", "phone", "address", "offline_access"]

_LOOPBACK_IPS = frozenset({"127.0.0.1", "::1"})


def redirect_uri_matches(registered: list[str], presented: str, application_type: str) -> bool:
    """Exact string match against a registered URI (RFC 9700 §4.1.3); for a native client a
    loopback IP literal may differ in its port only (RFC 8252 §7.3), so ``porta-cli`` can listen
    on any free port. ``localhost`` gets no such latitude: it can resolve elsewhere."""
    if presented in registered:
        return True
    if application_type != "native":
        return False
    try:
        parts = urlsplit(presented)
        host, port = parts.hostname, parts.port
    except ValueError:
        return False
    if parts.scheme != "http" or host not in _LOOPBACK_IPS or parts.username or parts.password:
        return False
    if port is None:
        return False
    for uri in registered:
        try:
            reg = urlsplit(uri)
        except ValueError:
            continue
        if reg.scheme != "http" or reg.hostname != host:
            continue
        netloc = f"[{host}]" if ":" in host else host
        wanted = urlunsplit(("http", netloc, reg.path, reg.query, reg.fragment))
        got = urlunsplit(("http", netloc, parts.path, parts.query, parts.fragment))
        if wanted == got:
            return True
    return False


class PortaClient(ClientMixin):
    """authlib's view of an ``applications.Client`` (the model stays authlib-free)."""

    def __init__(self, model: Client) -> None:
        self.model = model
        self.client_id = model.client_id

    @property
    def is_public(self) -> bool:
        return self.model.token_endpoint_auth_method == "none"

    def get_client_id(self) -> str:
        return self.model.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Only an unambiguous registration may be implied (RFC 6749 §3.1.2.3).
        uris = self.model.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scope when the client may have all of it (None → invalid_scope), the
        client's registered scope when none was asked for."""
        allowed = self.model.scope.split()
        if not scope:
            return " ".join(allowed)
        wanted = scope.split()
        return " ".join(wanted) if all(s in allowed for s in wanted) else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri_matches(self.model.redirect_uris, redirect_uri, self.model.application_type)

    def check_client_secret(self, client_secret: str) -> bool:
        """authlib's own secret check, answered by the applications service (any active,
        unexpired secret of this very client; failures audited). Our token endpoint authenticates
        clients before authlib sees them (``OrganizationServer.authenticate_client``), so this is
        the same rule for any authlib path that asks."""
        verified = client_secret_verify(client_id=self.model.client_id, secret=client_secret)
        return verified is not None and verified.pk == self.model.pk

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.model.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type in (self.model.response_types or ["code"]) and (
            "authorization_code" in self.model.grant_types
        )

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.model.grant_types


class _DjangoPayload(OAuth2Payload):
    def __init__(self, params: QueryDict) -> None:
        self._data = {key: params.get(key) for key in params}
        self._datalist = defaultdict(list, {key: list(values) for key, values in params.lists()})

    @property
    def data(self) -> dict:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list]:
        return self._datalist


class DjangoOAuth2Request(OAuth2Request):
    """An authlib request over a Django one. ``django`` is the original request and
    ``organization`` the issuer it came to, for grants and client authentication.

    The authorization endpoint reads its parameters from the query string even on the login
    form's POST (the form carries the person's credentials, not the client's request); the token
    endpoint reads the form body."""

    def __init__(self, request: HttpRequest, organization: Organization, *, params: QueryDict) -> None:
        # OAuth2Request.__init__ refuses http:// URIs; TLS is the deployment's job (PORTA_PUBLIC_URL
        # and the proxy in front), so the attributes are set here without that check.
        self.method = request.method
        self.uri = request.build_absolute_uri()
        self.headers = request.headers
        self._body = None
        self.payload = _DjangoPayload(params)
        self.client = None
        self.auth_method = None
        self.user = None
        self.authorization_code = None
        self.refresh_token = None
        self.credential = None
        self._scope = None
        self.django = request
        self.organization = organization
        self._form = request.POST if request.method == "POST" else QueryDict()

    @property
    def args(self) -> QueryDict:
        return self.django.GET

    @property
    def form(self) -> QueryDict:
        return self._form


def json_response(data, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(orjson.dumps(data), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def oauth_error_response(error: OAuthError) -> HttpResponse:
    """Our ``OAuthError`` as an RFC 6749 §5.2 body (``no-store``; Basic challenge on a 401)."""
    headers = {**NO_STORE, **error.headers}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="porta"'
    return json_response(
        {"error": error.error, "error_description": error.description}, error.status, headers
    )


class OrganizationServer(AuthorizationServer):
    """RFC 6749 authorization server of one organization (its issuer is ``issuer_for(slug)``)."""

    def __init__(self, organization: Organization) -> None:
        super().__init__(scopes_supported=SCOPES_SUPPORTED)
        self.organization = organization
        grants.register(self)

    # -- the framework half authlib asks for ---------------------------------------------------

    def create_oauth2_request(self, request) -> DjangoOAuth2Request:
        if isinstance(request, DjangoOAuth2Request):
            return request
        params = request.POST if request.method == "POST" else request.GET
        return DjangoOAuth2Request(request, self.organization, params=params)

    def authorization_request(self, request: HttpRequest) -> DjangoOAuth2Request:
        """The authorize endpoint's request: parameters from the query string, whatever the method."""
        return DjangoOAuth2Request(request, self.organization, params=request.GET)

    def handle_response(self, status: int, body, headers) -> HttpResponse:
        headers = dict(headers or [])
        if status in (301, 302, 303, 307):
            response = HttpResponse(status=status)
        else:
            data = dict(body) if isinstance(body, list) else body
            if isinstance(data, dict) and "error" in data and not data.get("error_description"):
                data["error_description"] = data["error"].replace("_", " ").capitalize()
            response = HttpResponse(orjson.dumps(data), status=status, content_type="application/json")
            headers.update(NO_STORE)
            headers.pop("Content-Type", None)
        for name, value in headers.items():
            response[name] = value
        return response

    def send_signal(self, name, *args, **kwargs) -> None:
        return None

    # -- the storage half -----------------------------------------------------------------------

    def query_client(self, client_id: str | None) -> PortaClient | None:
        """An active client of this organization (of an active application), or None."""
        if not client_id:
            return None
        model = (
            Client.objects.select_related("application", "organization")
            .filter(client_id=client_id, organization=self.organization)
            .first()
        )
        if (
            model is None
            or model.status != ClientStatus.ACTIVE
            or model.application.status != ApplicationStatus.ACTIVE
        ):
            return None
        return PortaClient(model)

    def authenticate_client(self, request: DjangoOAuth2Request, methods, endpoint: str = "token"):
        """Client authentication for every endpoint, whatever ``methods`` a grant lists: the client
        authenticates the way it registered (``client_secret_basic``, ``client_secret_post``, or
        ``none`` for public clients) with any one of its active secrets."""
        model, method = services.authenticate_client_for(self.organization, request.django)
        request.auth_method = method
        request.client = PortaClient(model)
        return request.client

    def save_token(self, token, request) -> None:
        """Tokens are stored (refresh tokens, hashed) by ``oidc.minting`` as they are minted."""
        return


def server_for(organization: Organization) -> OrganizationServer:
    return OrganizationServer(organization)


def client_ip(request: HttpRequest) -> str:
    return getattr(request, "porta_client_ip", None) or request.META.get("REMOTE_ADDR", "")


def presented_client_id(request: HttpRequest) -> str:
    """The client id a request names (Basic header or form), before it is authenticated."""
    try:
        return services.client_credentials_presented(request)[0]
    except OAuthError:
        return ""


def throttle(request: HttpRequest, organization: Organization, *, endpoint: str) -> OAuthError | None:
    """Per-IP and per-client limits of a protocol endpoint (``PORTA_OIDC_IP_LIMIT`` and
    ``PORTA_OIDC_CLIENT_LIMIT`` per ``PORTA_OIDC_RATE_WINDOW``), counted for every request,
    before any work. An answer when one is exceeded (429 ``slow_down`` with ``Retry-After``)."""
    window = settings.PORTA_OIDC_RATE_WINDOW
    checks = [(f"oidc:{endpoint}:ip:{client_ip(request)}", settings.PORTA_OIDC_IP_LIMIT, "address")]
    client_id = presented_client_id(request) or request.GET.get("client_id", "")
    if client_id:
        key = f"oidc:{endpoint}:client:{organization.id}:{client_id[:100]}"
        checks.append((key, settings.PORTA_OIDC_CLIENT_LIMIT, "client"))
    for key, limit, what in checks:
        decision = ratelimit.hit(key, limit=limit, window=window)
        if not decision.allowed:
            THROTTLED_REQUESTS.labels(scope=f"oidc_{endpoint}").inc()
            return OAuthError(
                "slow_down",
                f"Too many requests from this {what}. Try again later.",
                status=429,
                headers={"Retry-After": str(decision.reset), **decision.headers()},
            )
    return None
