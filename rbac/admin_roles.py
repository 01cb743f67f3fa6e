"""The catalogue of Porta's own admin roles and ``admin:<resource>:<action>`` permissions.

They are ordinary roles and permissions of the ``porta-admin`` application; ``porta_init`` seeds
them from this table, and the admin API manages them like any other application's.
"""

from __future__ import annotations

from applications.models import ADMIN_APP_SLUG as ADMIN_APP_SLUG  # re-exported: where rbac callers look

_ACTIONS: dict[str, tuple[str, ...]] = {
    "org": ("create", "read", "update", "suspend", "archive"),
    "app": ("create", "read", "update", "archive"),
    "client": ("create", "read", "update", "revoke"),
    "user": ("create", "read", "update", "suspend", "archive", "invite", "2fa"),
    "role": ("create", "read", "update", "archive", "assign"),
    "permission": ("create", "read", "archive"),
    "claim": ("create", "read", "update", "archive"),
    "config": ("read", "update"),
    "key": ("read", "generate", "rotate"),
    "audit": ("read",),
    "session": ("read", "revoke"),
    "stats": ("read",),
    "export": ("read",),
    "import": ("write",),
    "job": ("read", "cancel"),
    "issued-key": ("create", "read", "update", "revoke", "verify"),
}

ALL_ADMIN_PERMISSIONS: frozenset[str] = frozenset(
    f"admin:{resource}:{action}" for resource, actions in _ACTIONS.items() for action in actions
)


def _matching(*, resources: tuple[str, ...] = (), actions: tuple[str, ...] = (), extra: tuple[str, ...] = ()):
    return frozenset(
        p
        for p in ALL_ADMIN_PERMISSIONS
        if (p.split(":")[1] in resources) or (actions and p.split(":")[2] in actions)
    ) | frozenset(extra)


SUPER_ADMIN_ROLES = frozenset({"porta-super-admin", "porta-admin"})

ADMIN_ROLES: dict[str, tuple[str, str, frozenset[str]]] = {
    "porta-super-admin": ("Porta super admin", "Full system access", ALL_ADMIN_PERMISSIONS),
    "porta-admin": ("Porta admin (legacy)", "Legacy alias of porta-super-admin", ALL_ADMIN_PERMISSIONS),
    "porta-org-admin": (
        "Organization admin",
        "Manages organizations",
        # Jobs: bulk status changes run as jobs, which their starter follows and may cancel.
        _matching(resources=("org", "job", "issued-key"), extra=("admin:stats:read",)),
    ),
    "porta-user-admin": (
        "User admin",
        "Manages users, their roles and sessions",
        _matching(
            resources=("user", "job"),
            extra=(
                "admin:role:assign",
                "admin:role:read",
                "admin:claim:read",
                "admin:session:read",
                "admin:session:revoke",
            ),
        ),
    ),
    "porta-app-admin": (
        "Application admin",
        "Manages applications, clients, roles, permissions and claims",
        _matching(resources=("app", "client", "permission", "claim"))
        | frozenset({"admin:role:create", "admin:role:read", "admin:role:update", "admin:role:archive"}),
    ),
    "porta-auditor": (
        "Auditor",
        "Reads everything, changes nothing",
        _matching(actions=("read",)),
    ),
}
