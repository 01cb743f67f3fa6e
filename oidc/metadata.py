"""OpenID Provider metadata (OIDC Discovery 1.0) of an organization's issuer."""

from __future__ import annotations

from oidc.issuers import issuer_for

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials", "password")


def endpoints(org_slug: str) -> dict[str, str]:
    issuer = issuer_for(org_slug)
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/auth/authorize",
        "token_endpoint": f"{issuer}/auth/token",
        "userinfo_endpoint": f"{issuer}/auth/userinfo",
        "jwks_uri": f"{issuer}/auth/jwks",
        "introspection_endpoint": f"{issuer}/auth/introspect",
        "revocation_endpoint": f"{issuer}/auth/revoke",
        "end_session_endpoint": f"{issuer}/auth/end-session",
    }


def provider_metadata(org_slug: str) -> dict:
    from oidc.login import SUPPORTED_LOCALES
    from oidc.provider import SCOPES_SUPPORTED

    auth_methods = ["client_secret_basic", "client_secret_post", "none"]
    return {
        **endpoints(org_slug),
        "scopes_supported": SCOPES_SUPPORTED,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "sid",
            "org_id",
            "org_slug",
            "name",
            "given_name",
            "family_name",
            "email",
            "email_verified",
        ],  # fmt: skip
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": list(SUPPORTED_LOCALES),
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": False,
    }
