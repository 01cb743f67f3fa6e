"""Writes to roles and permissions of an application: slug rules, forced deletes and their audit
entries, one transaction each. Every write bumps the PRINCIPALS stamp through the model signals
(porta.invalidation), so resolutions cached by rbac.selectors.resolve are dropped at once."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from applications.models import Application
from audit.writes import Audited, Precondition, lock, wire_fields
from porta.core.context import Actor
from porta.core.errors import Conflict, ValidationFailed
from porta.core.slugs import checked_slug, unique_slug
from rbac.models import Permission

#: ``module:resource:action`` and more: at least three colon-separated lowercase segments.
PERMISSION_SLUG = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(:[a-z0-9]([a-z0-9-]*[a-z0-9])?){2,}$")
PERMISSION_SLUG_MAX = 150
UPDATABLE_PERMISSION_FIELDS = ("name", "description")

#: Permissions are global (their application's); every entry names the application.
AUDITED = Audited(
    target_type="permission",
    fields=wire_fields("name", "slug", "description"),
    metadata=lambda permission: {"applicationId": str(permission.application_id)},
)


def permission_slug_problem(slug: str) -> str | None:
    if len(slug) > PERMISSION_SLUG_MAX or not PERMISSION_SLUG.match(slug):
        return (
            "Slug must have at least three colon-separated segments (module:resource:action) of "
            "lowercase letters, digits and inner hyphens"
        )
    return None


@transaction.atomic
def permission_create(
    *, actor: Actor, application: Application, name: str, slug: str, description: str | None = None
) -> Permission:
    """Add a permission to an application; a slug taken in the application is a 409."""
    checked_slug(slug, permission_slug_problem)
    permission = Permission(application=application, name=name, slug=slug, description=description or "")
    with unique_slug(slug):
        permission.save(force_insert=True)
    AUDITED.record_created("permission.created", actor=actor, row=permission)
    return permission


@transaction.atomic
def permission_update(
    *,
    actor: Actor,
    permission: Permission,
    slug: str | None = None,
    precondition: Precondition | None = None,
    **changes: Any,
) -> Permission:
    """Change name and description. The slug is immutable: tokens and checks carry it."""
    permission = lock(permission, precondition)
    if slug is not None and slug != permission.slug:
        raise ValidationFailed("The slug of a permission cannot be changed", details={"slug": ["Immutable."]})
    with AUDITED.change("permission.updated", actor=actor, row=permission):
        for name, value in changes.items():
            if name not in UPDATABLE_PERMISSION_FIELDS:
                raise ValueError(f"Not updatable: {name}")
            setattr(permission, name, "" if value is None and name == "description" else value)
        permission.save()
    return permission


@transaction.atomic
def permission_delete(
    *, actor: Actor, permission: Permission, force: bool = False, precondition: Precondition | None = None
) -> None:
    """Hard delete. A permission still granted by a role is a 409 unless ``force``, which
    removes it from those roles as well."""
    permission = lock(permission, precondition)
    assigned = permission.role_permissions.count()
    if assigned and not force:
        raise Conflict(f"Permission is assigned to {assigned} role(s). Use force=true to delete it anyway")
    AUDITED.record_deleted(
        "permission.deleted", actor=actor, row=permission, metadata={"removedFromRoles": assigned}
    )
    permission.delete()
