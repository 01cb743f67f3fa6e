"""Every organization's issuer at ``/<orgSlug>``: discovery, JWKS, authorize, token, and the
aliases clients written for upstream Porta (oidc-provider's paths) call. The other protocol
endpoints come from ``oidc.endpoint_urls``."""

from __future__ import annotations

from django.urls import include, re_path

from oidc import login, views

ORG = r"^(?P<org_slug>[a-z0-9][a-z0-9-]{1,98}[a-z0-9])"

urlpatterns = [
    re_path(rf"{ORG}/\.well-known/openid-configuration/?$", views.discovery, name="oidc-discovery"),
    re_path(rf"{ORG}/auth/authorize/?$", login.authorize, name="oidc-authorize"),
    re_path(rf"{ORG}/auth/token/?$", views.token, name="oidc-token"),
    re_path(rf"{ORG}/auth/jwks/?$", views.jwks, name="oidc-jwks"),
    # upstream aliases
    re_path(rf"{ORG}/auth/?$", login.authorize, name="oidc-authorize-alias"),
    re_path(rf"{ORG}/token/?$", views.token, name="oidc-token-alias"),
    re_path(rf"{ORG}/jwks/?$", views.jwks, name="oidc-jwks-alias"),
    re_path(rf"{ORG}/", include("oidc.endpoint_urls")),
]
