"""Who is calling the admin API, resolved once per request by the authentication module."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from porta.core.context import Actor


class Authorization(Protocol):
    """What the kernel reads of a principal's admin roles (rbac.selectors.AdminAuthorization)."""

    roles: frozenset[str]
    permissions: frozenset[str]

    @property
    def is_super_admin(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Principal:
    user: Any  # organizations.User
    organization_id: uuid.UUID
    is_admin_org_member: bool
    authorization: Authorization
    credential: str  # "jwt" | "api_key"
    # None: may act across organizations (super-admin org credentials). Otherwise every
    # organization-scoped resource is filtered to this organization and global ones are refused.
    scope_organization_id: uuid.UUID | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    # Set when the credential is an admin API key: ``user`` is then the key's creator, and
    # changes are attributed to the key itself.
    api_key_id: uuid.UUID | None = None
    api_key_name: str = ""

    @property
    def actor(self) -> Actor:
        if self.api_key_id is not None:
            return Actor(type="api_key", id=self.api_key_id, label=self.api_key_name)
        return Actor(type="user", id=self.user.id, label=self.user.email)
