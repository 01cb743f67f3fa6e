"""Writes to the roles of an application and to the permissions each role grants.

Every write is one transaction with its audit entry, and bumps the PRINCIPALS stamp (model
signals, or :func:`porta.core.invalidation.principals_changed` after bulk writes), so resolutions
cached by :func:`rbac.selectors.resolve` and admin authorizations are dropped at once.
Roles of the ``porta-admin`` application are Porta's own admin roles: adding a permission to one
is granting admin power, so it passes the no-self-escalation rule (:mod:`rbac.grants`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from applications.models import Application
from audit.writes import Audited, Precondition, lock, wire_fields
from porta.core.context import Actor
from porta.core.errors import Conflict, Forbidden, ValidationFailed
from porta.core.invalidation import principals_changed
from porta.core.slugs import checked_slug, slug_for, unique_slug
from rbac.admin_roles import ADMIN_APP_SLUG
from rbac.grants import ensure_can_grant
from rbac.models import Permission, Role, RolePermission
from rbac.selectors import AdminAuthorization

#: Upstream §9: 1–100 characters, lowercase letters, digits and inner hyphens.
ROLE_SLUG = re.compile(r"^[a-z0-9]([a-z0-9-]{0,98}[a-z0-9])?$")
UPDATABLE_ROLE_FIELDS = ("name", "slug", "description")

#: Roles are global (their application's); every entry names the application and the slug.
AUDITED = Audited(
    target_type="role",
    fields=wire_fields("name", "slug", "description"),
    metadata=lambda role: {"applicationId": str(role.application_id), "roleSlug": role.slug},
)


def role_slug_problem(slug: str) -> str | None:
    if not ROLE_SLUG.match(slug):
        return (
            "Slug must be 1-100 characters of lowercase letters, digits and hyphens, "
            "and must not start or end with a hyphen"
        )
    return None


@transaction.atomic
def role_create(
    *,
    actor: Actor,
    application: Application,
    name: str,
    slug: str | None = None,
    description: str | None = None,
    is_system: bool = False,
) -> Role:
    """Add a role to an application. An explicit slug taken in the application is a 409; a slug
    generated from the name is made unique (``-2``, ``-3`` …). ``is_system`` marks a built-in
    admin role (porta_init's), whose slug cannot change and which cannot be deleted."""
    slug = slug_for(name, slug, taken=application.roles.all(), suffix="role", problem=role_slug_problem)
    role = Role(
        application=application, name=name, slug=slug, description=description or "", is_system=is_system
    )
    with unique_slug(slug):
        role.save(force_insert=True)
    AUDITED.record_created("role.created", actor=actor, row=role)
    return role


def _locked_role(role: Role, precondition: Precondition | None = None) -> Role:
    """The role alone is locked, read with its application (admin roles are told by it)."""
    return lock(
        role,
        precondition,
        queryset=Role.objects.select_related("application").select_for_update(of=("self",)),
    )


@transaction.atomic
def role_update(
    *, actor: Actor, role: Role, precondition: Precondition | None = None, **changes: Any
) -> Role:
    """Change name, slug and description. A built-in role keeps its slug: authorization and
    tokens name it."""
    role = _locked_role(role, precondition)
    unknown = set(changes) - set(UPDATABLE_ROLE_FIELDS)
    if unknown:
        raise ValueError(f"Not updatable: {sorted(unknown)}")
    slug = changes.get("slug")
    if slug is not None and slug != role.slug:
        if role.is_system:
            raise Forbidden(f"The slug of built-in role '{role.slug}' cannot be changed")
        checked_slug(slug, role_slug_problem)
    with AUDITED.change("role.updated", actor=actor, row=role):
        for name, value in changes.items():
            if value is None and name == "description":
                value = ""
            if value is not None:
                setattr(role, name, value)
        with unique_slug(role.slug):
            role.save()
    return role


@transaction.atomic
def role_delete(
    *, actor: Actor, role: Role, force: bool = False, precondition: Precondition | None = None
) -> None:
    """Hard delete. A role still held by users is a 409 unless ``force``, which removes those
    assignments too. Built-in admin roles cannot be deleted (403)."""
    role = _locked_role(role, precondition)
    if role.is_system:
        raise Forbidden(f"Built-in role '{role.slug}' cannot be deleted")
    holders = role.user_roles.count()
    if holders and not force:
        raise Conflict(f"Role is assigned to {holders} user(s). Use force=true to delete it anyway")
    AUDITED.record_deleted(
        "role.deleted", actor=actor, row=role, metadata={"removedFromUsers": holders, "forced": force}
    )
    role.delete()


def _permissions_of_application(role: Role, permission_ids: Iterable[uuid.UUID]) -> list[Permission]:
    """The permissions named, all of the role's application; any other id is a 400 naming it."""
    wanted = list(dict.fromkeys(permission_ids))
    found = {p.id: p for p in Permission.objects.filter(application_id=role.application_id, pk__in=wanted)}
    missing = [str(pk) for pk in wanted if pk not in found]
    if missing:
        problem = f"Not permissions of this application: {', '.join(missing)}"
        raise ValidationFailed(problem, details={"permissionIds": [problem]})
    return [found[pk] for pk in wanted]


def _is_admin_role(role: Role) -> bool:
    return role.application.slug == ADMIN_APP_SLUG


@transaction.atomic
def role_permissions_assign(
    *, actor: Actor, authorization: AdminAuthorization, role: Role, permission_ids: Iterable[uuid.UUID]
) -> list[Permission]:
    """Let ``role`` grant the permissions (idempotent); returns the ones newly added. For an
    admin role the caller must hold every one of them (403 otherwise)."""
    role = _locked_role(role)
    permissions = _permissions_of_application(role, permission_ids)
    if _is_admin_role(role):
        ensure_can_grant(
            authorization, [p.slug for p in permissions], what=f"permissions to role '{role.slug}'"
        )
    held = set(role.role_permissions.values_list("permission_id", flat=True))
    added = [p for p in permissions if p.id not in held]
    RolePermission.objects.bulk_create([RolePermission(role=role, permission=p) for p in added])
    if added:
        principals_changed()
        AUDITED.record(
            "role.permissions.assigned",
            actor=actor,
            row=role,
            metadata={
                "permissionIds": [str(p.id) for p in added],
                "permissionSlugs": [p.slug for p in added],
            },
        )
    return added


@transaction.atomic
def role_permissions_remove(
    *, actor: Actor, role: Role, permission_ids: Iterable[uuid.UUID]
) -> list[Permission]:
    """Stop ``role`` granting the permissions (idempotent); returns the ones removed."""
    role = _locked_role(role)
    permissions = _permissions_of_application(role, permission_ids)
    by_id = {p.id: p for p in permissions}
    removed_ids = list(
        role.role_permissions.filter(permission_id__in=by_id).values_list("permission_id", flat=True)
    )
    if removed_ids:
        role.role_permissions.filter(permission_id__in=removed_ids).delete()
        principals_changed()
        removed = [by_id[pk] for pk in removed_ids]
        AUDITED.record(
            "role.permissions.removed",
            actor=actor,
            row=role,
            metadata={
                "permissionIds": [str(p.id) for p in removed],
                "permissionSlugs": [p.slug for p in removed],
            },
        )
    return [by_id[pk] for pk in removed_ids]
