"""Writes to roles and permissions of an application: slug rules, forced deletes and their audit
entries, one transaction each. Every write bumps the PRINCIPALS stamp through the model signals
(porta.invalidation), so resolutions cached by rbac.selectors.resolve are dropped at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction

from applications.models import Application
from audit import services as audit
from porta.core.context import Actor
from porta.core.errors import Conflict, ValidationFailed
from rbac.models import Permission

#: ``module:resource:action`` and more: at least three colon-separated lowercase segments.
PERMISSION_SLUG = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(:[a-z0-9]([a-z0-9-]*[a-z0-9])?){2,}$")
PERMISSION_SLUG_MAX = 150
UPDATABLE_PERMISSION_FIELDS = ("name", "description")
Precondition = Callable[[Any], None]

_AUDITED_PERMISSION = {"name": "name", "slug": "slug", "description": "description"}


def permission_snapshot(permission: Permission) -> dict[str, Any]:
    return {wire: getattr(permission, field) for wire, field in _AUDITED_PERMISSION.items()}


def _audit_permission(
    event_type: str, actor: Actor, permission: Permission, extra: dict[str, Any] | None = None, **details: Any
) -> None:
    audit.record(
        event_type=event_type,
        actor=actor,
        organization_id=None,
        target_type="permission",
        target_id=permission.id,
        metadata={"applicationId": str(permission.application_id), **(extra or {})},
        **details,
    )


def _checked_permission_slug(slug: str) -> str:
    if len(slug) > PERMISSION_SLUG_MAX or not PERMISSION_SLUG.match(slug):
        problem = (
            "Slug must have at least three colon-separated segments (module:resource:action) of "
            "lowercase letters, digits and inner hyphens"
        )
        raise ValidationFailed(problem, details={"slug": [problem]})
    return slug


@transaction.atomic
def permission_create(
    *, actor: Actor, application: Application, name: str, slug: str, description: str | None = None
) -> Permission:
    """Add a permission to an application; a slug taken in the application is a 409."""
    _checked_permission_slug(slug)
    permission = Permission(application=application, name=name, slug=slug, description=description or "")
    try:
        with transaction.atomic():
            permission.save(force_insert=True)
    except IntegrityError as exc:
        raise Conflict(f"Slug '{slug}' is already in use", details={"slug": ["Slug already in use"]}) from exc
    _audit_permission(
        "permission.created", actor, permission, changes=audit.diff({}, permission_snapshot(permission))
    )
    return permission


def _locked_permission(permission: Permission, precondition: Precondition | None) -> Permission:
    locked = Permission.objects.select_for_update().get(pk=permission.pk)
    if precondition is not None:
        precondition(locked)
    return locked


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
    permission = _locked_permission(permission, precondition)
    if slug is not None and slug != permission.slug:
        raise ValidationFailed("The slug of a permission cannot be changed", details={"slug": ["Immutable."]})
    before = permission_snapshot(permission)
    for name, value in changes.items():
        if name not in UPDATABLE_PERMISSION_FIELDS:
            raise ValueError(f"Not updatable: {name}")
        setattr(permission, name, "" if value is None and name == "description" else value)
    permission.save()
    _audit_permission(
        "permission.updated",
        actor,
        permission,
        changes=audit.diff(before, permission_snapshot(permission)),
    )
    return permission


@transaction.atomic
def permission_delete(
    *, actor: Actor, permission: Permission, force: bool = False, precondition: Precondition | None = None
) -> None:
    """Hard delete. A permission still granted by a role is a 409 unless ``force``, which
    removes it from those roles as well."""
    permission = _locked_permission(permission, precondition)
    assigned = permission.role_permissions.count()
    if assigned and not force:
        raise Conflict(f"Permission is assigned to {assigned} role(s). Use force=true to delete it anyway")
    before = permission_snapshot(permission)
    _audit_permission(
        "permission.deleted",
        actor,
        permission,
        changes=audit.diff(before, {}),
        extra={"removedFromRoles": assigned},
    )
    permission.delete()
