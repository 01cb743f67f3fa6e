"""Routes of the session- and token-management endpoints (userinfo, introspection, revocation,
end-session) and their upstream aliases. ``oidc.urls`` includes this list under the
organization's slug: each pattern here matches what follows ``/<orgSlug>/`` and receives
``org_slug``."""

from __future__ import annotations

urlpatterns: list = []
