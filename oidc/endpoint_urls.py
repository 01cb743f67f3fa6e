"""Routes of the session- and token-management endpoints (userinfo, introspection, revocation,
end-session) and their upstream aliases. ``oidc.urls`` includes this list under the
organization's slug: each pattern here matches what follows ``/<orgSlug>/`` and receives
``org_slug``."""

from __future__ import annotations

from django.urls import re_path

from oidc import endpoints

urlpatterns: list = [
    re_path(r"^auth/userinfo/?$", endpoints.userinfo, name="oidc-userinfo"),
    re_path(r"^auth/introspect/?$", endpoints.introspect, name="oidc-introspect"),
    re_path(r"^auth/revoke/?$", endpoints.revoke, name="oidc-revoke"),
    re_path(r"^auth/end-session/?$", endpoints.end_session, name="oidc-end-session"),
    # upstream aliases (oidc-provider's paths)
    re_path(r"^me/?$", endpoints.userinfo, name="oidc-userinfo-alias"),
    re_path(r"^token/introspection/?$", endpoints.introspect, name="oidc-introspect-alias"),
    re_path(r"^token/revocation/?$", endpoints.revoke, name="oidc-revoke-alias"),
    re_path(r"^session/end/?$", endpoints.end_session, name="oidc-end-session-alias"),
]
