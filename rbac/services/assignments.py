"""Which users hold which roles. A role of any application may be given to a user of any
organization (upstream §9); roles of the ``porta-admin`` application are admin power, so giving or
taking one passes the no-self-escalation rule, and the last active super-admin keeps theirs."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import transaction

from audit.writes import Audited
from organizations.models import User
from porta.core.context import Actor
from porta.core.errors import Conflict, ValidationFailed
from porta.core.invalidation import principals_changed
from rbac.admin_roles import ADMIN_APP_SLUG, SUPER_ADMIN_ROLES
from rbac.grants import ensure_can_grant_roles
from rbac.models import Role, UserRole
from rbac.selectors import AdminAuthorization


def _roles(role_ids: Iterable[uuid.UUID]) -> list[Role]:
    """The roles named; an unknown id is a 400 naming it (it is a body field, not a path)."""
    wanted = list(dict.fromkeys(role_ids))
    found = {r.id: r for r in Role.objects.select_related("application").filter(pk__in=wanted)}
    missing = [str(pk) for pk in wanted if pk not in found]
    if missing:
        problem = f"Unknown role id(s): {', '.join(missing)}"
        raise ValidationFailed(problem, details={"roleIds": [problem]})
    return [found[pk] for pk in wanted]


def _guard_admin_roles(authorization: AdminAuthorization, roles: list[Role]) -> None:
    admin_slugs = [r.slug for r in roles if r.application.slug == ADMIN_APP_SLUG]
    if admin_slugs:
        ensure_can_grant_roles(authorization, admin_slugs)


#: An assignment is recorded on the user, naming the role.
USER_AUDITED = Audited(target_type="user", fields={}, organization=lambda user: user.organization_id)


def _audit(event_type: str, actor: Actor, user: User, role: Role) -> None:
    USER_AUDITED.record(
        event_type,
        actor=actor,
        row=user,
        metadata={"roleId": str(role.id), "roleSlug": role.slug, "applicationId": str(role.application_id)},
    )


@transaction.atomic
def user_roles_assign(
    *, actor: Actor, authorization: AdminAuthorization | None, user: User, role_ids: Iterable[uuid.UUID]
) -> list[Role]:
    """Give ``user`` the roles (idempotent); returns the ones newly given. An admin role needs
    the caller to hold everything it grants (403). ``authorization=None`` is only for a grant
    already checked against its author (an invitation's pre-assignments, checked when invited)."""
    roles = _roles(role_ids)
    if authorization is not None:
        _guard_admin_roles(authorization, roles)
    held = set(UserRole.objects.filter(user=user, role__in=roles).values_list("role_id", flat=True))
    added = [r for r in roles if r.id not in held]
    assigned_by = getattr(actor, "id", None) if getattr(actor, "type", "") == "user" else None
    UserRole.objects.bulk_create(
        [UserRole(user=user, role=r, assigned_by=assigned_by) for r in added], ignore_conflicts=True
    )
    if added:
        principals_changed()
    for role in added:
        _audit("user.role.assigned", actor, user, role)
    return added


def _active_super_admins_after(removing_user: User) -> int:
    """Active users of the super-admin organization who would still hold a super-admin role once
    ``removing_user`` loses theirs (a tenant's user holding one administers only their own
    organization, so cannot be the one that remains). Their rows are locked, so two concurrent
    removals cannot both pass."""
    holders = (
        UserRole.objects.select_for_update()
        .filter(
            role__application__slug=ADMIN_APP_SLUG,
            role__slug__in=SUPER_ADMIN_ROLES,
            user__status="active",
            user__organization__is_super_admin=True,
        )
        .exclude(user=removing_user)
        .values_list("user_id", flat=True)
    )
    return len(set(holders))


@transaction.atomic
def user_roles_remove(
    *, actor: Actor, authorization: AdminAuthorization, user: User, role_ids: Iterable[uuid.UUID]
) -> list[Role]:
    """Take the roles from ``user`` (idempotent); returns the ones taken. Taking an admin role
    needs the same standing as giving it, and the last active super-admin keeps theirs (409)."""
    roles = _roles(role_ids)
    _guard_admin_roles(authorization, roles)
    held = {ur.role_id: ur for ur in UserRole.objects.select_for_update().filter(user=user, role__in=roles)}
    removing = [r for r in roles if r.id in held]
    removes_super_admin = any(
        r.application.slug == ADMIN_APP_SLUG and r.slug in SUPER_ADMIN_ROLES for r in removing
    )
    if removes_super_admin:
        keeps = UserRole.objects.filter(
            user=user, role__application__slug=ADMIN_APP_SLUG, role__slug__in=SUPER_ADMIN_ROLES
        ).exclude(role__in=removing)
        if not keeps.exists() and _active_super_admins_after(user) == 0:
            raise Conflict("Cannot remove the super-admin role from the last active super-admin")
    if removing:
        UserRole.objects.filter(pk__in=[held[r.id].pk for r in removing]).delete()
        principals_changed()
    for role in removing:
        _audit("user.role.removed", actor, user, role)
    return removing
