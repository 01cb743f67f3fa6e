"""Writes to applications and their modules: business rules, state changes and their audit
entries, one transaction each. Applications are global (no organization), so their audit entries
carry no organization id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction

from applications.models import ADMIN_APP_SLUG, Application, ApplicationStatus, Module, ModuleStatus
from audit import services as audit
from porta.core.context import Actor
from porta.core.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed
from porta.core.slugs import available_slug, slug_problem

RESERVED_APP_SLUGS = frozenset({"admin", "api", "system", "internal", "default", "health", "status"})
#: Module slugs only have to be unique within their application; no word is reserved.
RESERVED_MODULE_SLUGS: frozenset[str] = frozenset()

#: action → (statuses it is allowed from, status it leads to, audit event)
APPLICATION_TRANSITIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "archive": (
        frozenset({ApplicationStatus.ACTIVE, ApplicationStatus.INACTIVE}),
        ApplicationStatus.ARCHIVED,
        "app.archived",
    ),
    "activate": (frozenset({ApplicationStatus.INACTIVE}), ApplicationStatus.ACTIVE, "app.activated"),
    "deactivate": (frozenset({ApplicationStatus.ACTIVE}), ApplicationStatus.INACTIVE, "app.deactivated"),
}
MODULE_TRANSITIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "deactivate": (frozenset({ModuleStatus.ACTIVE}), ModuleStatus.INACTIVE, "app.module.deactivated"),
}
#: Porta's own admin roles live on the porta-admin application: taking it out of service would
#: lock every administrator out.
PROTECTED_ACTIONS = frozenset({"archive", "deactivate"})

UPDATABLE_FIELDS = ("name", "description")
#: Checks a precondition (the request's If-Match) on the locked row; raises to refuse the write.
Precondition = Callable[[Any], None]

# Audited fields under their wire (camelCase) names, so audit metadata reads like the API.
_AUDITED = {"name": "name", "slug": "slug", "description": "description", "status": "status"}


def snapshot(row: Application | Module) -> dict[str, Any]:
    """The audited view of an application or module: every field a client can change, by wire name."""
    return {wire: getattr(row, field) for wire, field in _AUDITED.items()}


def _audit_application(event_type: str, actor: Actor, application: Application, **details: Any) -> None:
    audit.record(
        event_type=event_type,
        actor=actor,
        organization_id=None,
        target_type="application",
        target_id=application.id,
        **details,
    )


def _audit_module(event_type: str, actor: Actor, module: Module, **details: Any) -> None:
    audit.record(
        event_type=event_type,
        actor=actor,
        organization_id=None,
        target_type="module",
        target_id=module.id,
        metadata={"applicationId": str(module.application_id)},
        **details,
    )


def _checked_slug(slug: str, reserved: frozenset[str]) -> str:
    if (problem := slug_problem(slug, reserved)) is not None:
        raise ValidationFailed(problem, details={"slug": [problem]})
    return slug


def _insert(row: Application | Module, slug: str) -> None:
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError as exc:
        raise Conflict(f"Slug '{slug}' is already in use", details={"slug": ["Slug already in use"]}) from exc


def _apply_updates(row: Application | Module, slug: str | None, changes: dict[str, Any], kind: str) -> None:
    if slug is not None and slug != row.slug:
        raise ValidationFailed(f"The slug of {kind} cannot be changed", details={"slug": ["Immutable."]})
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not updatable: {sorted(unknown)}")
    for name, value in changes.items():
        setattr(row, name, value)


# -- applications ----------------------------------------------------------------------------------


@transaction.atomic
def application_create(
    *, actor: Actor, name: str, slug: str | None = None, description: str | None = None
) -> Application:
    """Create an application. An explicit slug that is taken is a conflict; a generated one is
    made unique."""
    if slug is None:
        slug = available_slug(
            name, taken=Application.objects.all(), reserved=RESERVED_APP_SLUGS, suffix="app"
        )
    else:
        _checked_slug(slug, RESERVED_APP_SLUGS)
    application = Application(name=name, slug=slug, description=description)
    _insert(application, slug)
    _audit_application("app.created", actor, application, changes=audit.diff({}, snapshot(application)))
    return application


def _locked_application(application: Application, precondition: Precondition | None) -> Application:
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if precondition is not None:
        precondition(locked)
    return locked


@transaction.atomic
def application_update(
    *,
    actor: Actor,
    application: Application,
    slug: str | None = None,
    precondition: Precondition | None = None,
    **changes: Any,
) -> Application:
    """Change name and description. The slug is immutable."""
    application = _locked_application(application, precondition)
    before = snapshot(application)
    _apply_updates(application, slug, changes, "an application")
    application.save()
    _audit_application("app.updated", actor, application, changes=audit.diff(before, snapshot(application)))
    return application


@transaction.atomic
def application_transition(
    *,
    actor: Actor,
    application: Application,
    action: str,
    precondition: Precondition | None = None,
) -> Application:
    """Apply one row of APPLICATION_TRANSITIONS; anything else is a 409 and changes nothing."""
    allowed_from, target, event_type = APPLICATION_TRANSITIONS[action]
    application = _locked_application(application, precondition)
    if application.slug == ADMIN_APP_SLUG and action in PROTECTED_ACTIONS:
        raise Forbidden(f"The {ADMIN_APP_SLUG} application cannot be {action}d")
    if application.status not in allowed_from:
        raise InvalidTransition(f"Cannot {action} application from status '{application.status}'")
    before = application.status
    application.status = target
    application.save(update_fields=["status", "updated_at"])
    _audit_application(
        event_type, actor, application, changes={"status": {"before": before, "after": target}}
    )
    return application


# -- modules ---------------------------------------------------------------------------------------


@transaction.atomic
def module_create(
    *,
    actor: Actor,
    application: Application,
    name: str,
    slug: str | None = None,
    description: str | None = None,
) -> Module:
    """Add a module to an application; slugs are unique within the application."""
    siblings = Module.objects.filter(application=application)
    if slug is None:
        slug = available_slug(name, taken=siblings, reserved=RESERVED_MODULE_SLUGS, suffix="module")
    else:
        _checked_slug(slug, RESERVED_MODULE_SLUGS)
    module = Module(application=application, name=name, slug=slug, description=description)
    _insert(module, slug)
    _audit_module("app.module.created", actor, module, changes=audit.diff({}, snapshot(module)))
    return module


def _locked_module(module: Module, precondition: Precondition | None) -> Module:
    locked = Module.objects.select_for_update().get(pk=module.pk)
    if precondition is not None:
        precondition(locked)
    return locked


@transaction.atomic
def module_update(
    *,
    actor: Actor,
    module: Module,
    slug: str | None = None,
    precondition: Precondition | None = None,
    **changes: Any,
) -> Module:
    """Change name and description. The slug is immutable."""
    module = _locked_module(module, precondition)
    before = snapshot(module)
    _apply_updates(module, slug, changes, "a module")
    module.save()
    _audit_module("app.module.updated", actor, module, changes=audit.diff(before, snapshot(module)))
    return module


@transaction.atomic
def module_deactivate(*, actor: Actor, module: Module, precondition: Precondition | None = None) -> Module:
    """Apply the ``deactivate`` row of MODULE_TRANSITIONS; from any other status it is a 409."""
    allowed_from, target, event_type = MODULE_TRANSITIONS["deactivate"]
    module = _locked_module(module, precondition)
    if module.status not in allowed_from:
        raise InvalidTransition(f"Cannot deactivate module from status '{module.status}'")
    before = module.status
    module.status = target
    module.save(update_fields=["status", "updated_at"])
    _audit_module(event_type, actor, module, changes={"status": {"before": before, "after": target}})
    return module
