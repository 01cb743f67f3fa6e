"""The grants of every organization's token and authorize endpoints, on authlib's RFC 6749 and
RFC 7636 classes. authlib does the protocol (parameters, redirect-URI and response-type checks,
PKCE); ``oidc.services`` does what is ours (codes, sessions, lockout, rotation) and
``oidc.minting`` signs.

- ``authorization_code`` + PKCE: S256 only (``plain`` refused); a challenge is required of public
  clients and of clients registered with ``require_pkce``.
- ``client_credentials``: confidential clients only.
- ``password`` and ``refresh_token``: the existing services (lockout and throttles through the
  one login service; rotating refresh tokens with family reuse detection).
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidRequestError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from django.utils import timezone

from oidc import services
from oidc.errors import OAuthError


class PortaCodeChallenge(CodeChallenge):
    """RFC 7636 with S256 only. A challenge without a method would mean ``plain``: refused too."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        client = grant.request.client
        if not challenge and (client.is_public or client.model.require_pkce):
            raise InvalidRequestError("code_challenge is required (PKCE with S256)")
        if challenge and not method:
            raise InvalidRequestError("code_challenge_method is required; only S256 is supported")
        if method and method != "S256":
            raise InvalidRequestError("Unsupported code_challenge_method; only S256 is supported")
        return super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        # A code issued with a challenge always needs the verifier, whoever the client is.
        return super().validate_code_verifier(grant, result)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    AUTHORIZATION_CODE_LENGTH = 43

    def save_authorization_code(self, code, request):
        data = request.payload.data
        services.authorization_code_save(
            code=code,
            client=request.client.model,
            user=request.user,
            session=request.porta_session,
            # Empty when the request named none (the registered one was implied): the token
            # request then need not name one either (RFC 6749 §4.1.3).
            redirect_uri=request.payload.redirect_uri or "",
            scope=request.scope,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=getattr(request, "porta_auth_time", None) or timezone.now(),
        )

    def query_authorization_code(self, code, client):
        return services.authorization_code_spend(code=code, client=client.model)

    def delete_authorization_code(self, authorization_code):
        return None  # spent by query_authorization_code, atomically

    def authenticate_user(self, authorization_code):
        return authorization_code.user

    def create_token_response(self):
        result = services.authorization_code_grant(
            organization=self.server.organization,
            client=self.request.client.model,
            code=self.request.authorization_code,
        )
        return 200, result.as_dict(), self.TOKEN_RESPONSE_HEADER


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self):
        client = self.authenticate_token_endpoint_client()
        if client.is_public:
            raise UnauthorizedClientError("client_credentials is for confidential clients only")
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError("The client may not use the client_credentials grant")
        self.request.client = client

    def create_token_response(self):
        result = services.client_credentials_grant(
            organization=self.server.organization,
            client=self.request.client.model,
            scope=self.request.payload.scope,
        )
        return 200, result.as_dict(), self.TOKEN_RESPONSE_HEADER


class _ServiceGrant(grants.BaseGrant, grants.TokenEndpointMixin):
    """A token grant whose work is an existing service (validation included)."""

    def validate_token_request(self):
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise OAuthError("unauthorized_client", f"The client may not use the {self.GRANT_TYPE} grant")
        self.request.client = client


class PasswordGrant(_ServiceGrant):
    GRANT_TYPE = "password"

    def create_token_response(self):
        form = self.request.form
        username, password = form.get("username", ""), form.get("password", "")
        if not username or not password:
            raise OAuthError("invalid_request", "username and password are required")
        django = self.request.django
        result = services.password_grant(
            organization=self.server.organization,
            client=self.request.client.model,
            username=username,
            password=password,
            scope=form.get("scope"),
            ip=getattr(django, "porta_client_ip", django.META.get("REMOTE_ADDR", "")),
        )
        return 200, result.as_dict(), self.TOKEN_RESPONSE_HEADER


class RefreshTokenGrant(_ServiceGrant):
    GRANT_TYPE = "refresh_token"

    def create_token_response(self):
        form = self.request.form
        refresh_token = form.get("refresh_token", "")
        if not refresh_token:
            raise OAuthError("invalid_request", "refresh_token is required")
        result = services.refresh_grant(
            organization=self.server.organization,
            client=self.request.client.model,
            refresh_token=refresh_token,
            scope=form.get("scope"),
        )
        return 200, result.as_dict(), self.TOKEN_RESPONSE_HEADER


def register(server) -> None:
    server.register_grant(AuthorizationCodeGrant, [PortaCodeChallenge(required=True)])
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(PasswordGrant)
    server.register_grant(RefreshTokenGrant)
