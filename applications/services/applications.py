"""Writes to applications and their modules: business rules, state changes and their audit
entries, one transaction each. Applications are global (no organization), so their audit entries
carry no organization id."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from applications.models import ADMIN_APP_SLUG, Application, ApplicationStatus, Module, ModuleStatus
from audit.transitions import StateMachine, Transition, transition
from audit.writes import Audited, Precondition, lock, wire_fields
from porta.core.context import Actor
from porta.core.errors import Forbidden, ValidationFailed
from porta.core.slugs import slug_for, unique_slug

RESERVED_APP_SLUGS = frozenset({"admin", "api", "system", "internal", "default", "health", "status"})
#: Module slugs only have to be unique within their application; no word is reserved.
RESERVED_MODULE_SLUGS: frozenset[str] = frozenset()

#: action → (statuses it is allowed from, status it leads to, audit event)
APPLICATION_TRANSITIONS: dict[str, Transition] = {
    "archive": Transition(
        frozenset({ApplicationStatus.ACTIVE, ApplicationStatus.INACTIVE}),
        ApplicationStatus.ARCHIVED,
        "app.archived",
    ),
    "activate": Transition(
        frozenset({ApplicationStatus.INACTIVE}), ApplicationStatus.ACTIVE, "app.activated"
    ),
    "deactivate": Transition(
        frozenset({ApplicationStatus.ACTIVE}), ApplicationStatus.INACTIVE, "app.deactivated"
    ),
}
MODULE_TRANSITIONS: dict[str, Transition] = {
    "deactivate": Transition(
        frozenset({ModuleStatus.ACTIVE}), ModuleStatus.INACTIVE, "app.module.deactivated"
    ),
}
#: Porta's own admin roles live on the porta-admin application: taking it out of service would
#: lock every administrator out.
PROTECTED_ACTIONS = frozenset({"archive", "deactivate"})

UPDATABLE_FIELDS = ("name", "description")

#: Every field a client can change, under its API name.
_FIELDS = wire_fields("name", "slug", "description", "status")
#: Applications are global: their entries carry no organization.
APPLICATION_AUDITED = Audited(target_type="application", fields=_FIELDS)
MODULE_AUDITED = Audited(
    target_type="module",
    fields=_FIELDS,
    metadata=lambda module: {"applicationId": str(module.application_id)},
)


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
    slug = slug_for(name, slug, taken=Application.objects.all(), reserved=RESERVED_APP_SLUGS, suffix="app")
    application = Application(name=name, slug=slug, description=description)
    with unique_slug(slug):
        application.save(force_insert=True)
    APPLICATION_AUDITED.record_created("app.created", actor=actor, row=application)
    return application


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
    application = lock(application, precondition)
    with APPLICATION_AUDITED.change("app.updated", actor=actor, row=application):
        _apply_updates(application, slug, changes, "an application")
        application.save()
    return application


def _guard_admin_application(application: Application, action: str) -> None:
    if application.slug == ADMIN_APP_SLUG and action in PROTECTED_ACTIONS:
        raise Forbidden(f"The {ADMIN_APP_SLUG} application cannot be {action}d")


APPLICATION_STATUS = StateMachine(
    noun="application",
    table=APPLICATION_TRANSITIONS,
    audited=APPLICATION_AUDITED,
    guard=_guard_admin_application,
)
MODULE_STATUS = StateMachine(noun="module", table=MODULE_TRANSITIONS, audited=MODULE_AUDITED)


def application_transition(
    *,
    actor: Actor,
    application: Application,
    action: str,
    precondition: Precondition | None = None,
) -> Application:
    """Apply one row of APPLICATION_TRANSITIONS; anything else is a 409 and changes nothing."""
    return transition(APPLICATION_STATUS, application, action, actor=actor, precondition=precondition)


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
    slug = slug_for(name, slug, taken=siblings, reserved=RESERVED_MODULE_SLUGS, suffix="module")
    module = Module(application=application, name=name, slug=slug, description=description)
    with unique_slug(slug):
        module.save(force_insert=True)
    MODULE_AUDITED.record_created("app.module.created", actor=actor, row=module)
    return module


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
    module = lock(module, precondition)
    with MODULE_AUDITED.change("app.module.updated", actor=actor, row=module):
        _apply_updates(module, slug, changes, "a module")
        module.save()
    return module


def module_deactivate(*, actor: Actor, module: Module, precondition: Precondition | None = None) -> Module:
    """Apply the ``deactivate`` row of MODULE_TRANSITIONS; from any other status it is a 409."""
    return transition(MODULE_STATUS, module, "deactivate", actor=actor, precondition=precondition)
