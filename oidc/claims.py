"""What a token carries beyond the protocol: the one resolver behind every grant's tokens.

Every access token, ID token and userinfo answer names its organization (``org_id``,
``org_slug``). A user's tokens also carry the user's roles and permissions *of the client's
application* (``rbac.selectors.resolve``: a token for the shop's client says nothing of the user's
roles in billing) and the application's custom claims flagged for that kind of token
(``includeInAccessToken``, ``includeInIdToken``, ``includeInUserinfo``). A client's own token
(client_credentials) has no user, so its roles and permissions are empty lists: a resource server
reads one shape whatever the grant.

Custom claims never displace what the protocol or this resolver says: a claim named like a
registered JWT or OIDC claim (``sub``, ``aud``, ``scope``…) is left out, whenever it was defined.
"""

from __future__ import annotations

from typing import Any, Literal

from applications.models import Client
from applications.services.claims import RESERVED_CLAIM_NAMES
from organizations.models import Organization, User
from rbac.selectors import token_claims

TokenType = Literal["access_token", "id_token", "userinfo"]

#: Claims a custom claim may not take over: those the claims API refuses to define (the protocol's
#: and ours). A definition made before a name was reserved is left out of every token.
PROTECTED_CLAIMS: frozenset[str] = RESERVED_CLAIM_NAMES


def organization_claims(organization: Organization) -> dict[str, Any]:
    return {"org_id": str(organization.id), "org_slug": organization.slug}


def resolve_claims(
    *, organization: Organization, client: Client, user: User | None, token_type: TokenType
) -> dict[str, Any]:
    """The claims a token of ``token_type`` that ``client`` obtains for ``user`` (None for the
    client itself) carries beyond the protocol's own."""
    if user is None:
        return {"roles": [], "permissions": [], **organization_claims(organization)}
    resolved = token_claims(user_id=user.id, application_id=client.application_id, token_type=token_type)
    custom = {name: value for name, value in resolved.items() if name not in PROTECTED_CLAIMS}
    return {
        **custom,
        "roles": resolved["roles"],
        "permissions": resolved["permissions"],
        **organization_claims(organization),
    }
