"""Writes to organizations: business rules, state changes and their audit entries, one transaction each."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import connection, transaction

from audit.transitions import StateMachine, Transition, transition
from audit.writes import Audited, Precondition, lock, wire_fields, wire_name
from organizations import extensions
from organizations.models import Organization, OrganizationStatus, User
from porta.core.context import Actor
from porta.core.errors import Forbidden, UnprocessableEntity, ValidationFailed
from porta.core.slugs import slug_for, slug_problem, unique_slug

RESERVED_ORG_SLUGS = frozenset(
    {
        "admin", "api", "health", "static", ".well-known", "login", "logout", "callback", "register",
        "signup", "auth", "oauth", "oidc", "token", "jwks", "portal", "dashboard", "settings", "account",
        "favicon.ico", "robots.txt", "sitemap.xml",
        # Porta's own top-level routes, so an organization's issuer can never shadow them.
        "metrics", "schema", "docs", "validate-slug",
    }
)  # fmt: skip

#: action → (statuses it is allowed from, status it leads to, audit event)
ORGANIZATION_TRANSITIONS: dict[str, Transition] = {
    "suspend": Transition(
        frozenset({OrganizationStatus.ACTIVE}), OrganizationStatus.SUSPENDED, "org.suspended"
    ),
    "activate": Transition(
        frozenset({OrganizationStatus.SUSPENDED}), OrganizationStatus.ACTIVE, "org.activated"
    ),
    "archive": Transition(
        frozenset({OrganizationStatus.ACTIVE, OrganizationStatus.SUSPENDED}),
        OrganizationStatus.ARCHIVED,
        "org.archived",
    ),
    "restore": Transition(
        frozenset({OrganizationStatus.ARCHIVED}), OrganizationStatus.ACTIVE, "org.restored"
    ),
}
PROTECTED_ACTIONS = frozenset({"suspend", "archive", "delete"})

BRANDING_FIELDS = {
    "logo_url": "branding_logo_url",
    "favicon_url": "branding_favicon_url",
    "primary_color": "branding_primary_color",
    "company_name": "branding_company_name",
    "custom_css": "branding_custom_css",
}
UPDATABLE_FIELDS = ("name", "default_locale", "default_login_methods")

#: Every field a client can change, under its API name.
AUDITED = Audited(
    target_type="organization",
    fields=wire_fields(
        "name",
        "slug",
        "status",
        "default_locale",
        "default_login_methods",
        **{field: f"branding.{wire_name(key)}" for key, field in BRANDING_FIELDS.items()},
    ),
    organization=lambda organization: organization.id,
)


def slug_validation_error(slug: str) -> str | None:
    problem = slug_problem(slug, RESERVED_ORG_SLUGS)
    if problem is None and Organization.objects.filter(slug=slug).exists():
        return "Slug already in use"
    return problem


def _apply_branding(organization: Organization, branding: dict[str, Any]) -> None:
    for key, value in branding.items():
        setattr(organization, BRANDING_FIELDS[key], value)


@transaction.atomic
def organization_create(
    *,
    actor: Actor,
    name: str,
    slug: str | None = None,
    default_locale: str = "en",
    default_login_methods: list[str] | None = None,
    branding: dict[str, Any] | None = None,
    is_super_admin: bool = False,
) -> Organization:
    """Create a tenant. An explicit slug that is taken is a conflict; a generated one is made unique.
    ``is_super_admin`` only for the one super-admin organization porta_init makes (never from the API)."""
    slug = slug_for(name, slug, taken=Organization.objects.all(), reserved=RESERVED_ORG_SLUGS, suffix="org")
    organization = Organization(
        name=name, slug=slug, default_locale=default_locale, is_super_admin=is_super_admin
    )
    if default_login_methods is not None:
        organization.default_login_methods = default_login_methods
    _apply_branding(organization, branding or {})
    with unique_slug(slug):
        organization.save(force_insert=True)
    AUDITED.record_created("org.created", actor=actor, row=organization)
    return organization


def organization_accepting_members(
    organization_id: uuid.UUID, *, field: str = "organizationId"
) -> Organization | None:
    """The organization a write adds something to (a user, an invitation, a client, an API key),
    or None when there is no such organization (the caller knows whether that is a 404 or a 422).

    A suspended or archived organization takes nothing new: 422 naming ``field`` (contract §1,
    "a reference to an inactive/suspended parent"). The row stays share-locked until the caller's
    transaction ends, so a concurrent suspend or archive waits for the write instead of racing
    past the check; concurrent writes into the same organization do not wait for each other.
    """
    rows = Organization.objects.filter(pk=organization_id)
    if connection.vendor == "postgresql":
        sql, params = rows.query.sql_with_params()
        organization = next(iter(Organization.objects.raw(f"{sql} FOR SHARE", params)), None)
    else:  # SQLite (the embedded default) has no row locks; its writes are serialised anyway
        organization = rows.first()
    if organization is not None and organization.status != OrganizationStatus.ACTIVE:
        message = f"Organization is {organization.status}"
        raise UnprocessableEntity(message, details={field: [message + "."]})
    return organization


@transaction.atomic
def organization_update(
    *,
    actor: Actor,
    organization: Organization,
    slug: str | None = None,
    branding: dict[str, Any] | None = None,
    precondition: Precondition | None = None,
    **changes: Any,
) -> Organization:
    """Change name, locale, login methods and branding. The slug is immutable."""
    organization = lock(organization, precondition)
    if slug is not None and slug != organization.slug:
        raise ValidationFailed(
            "The slug of an organization cannot be changed", details={"slug": ["Immutable."]}
        )
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not updatable: {sorted(unknown)}")
    with AUDITED.change("org.updated", actor=actor, row=organization):
        for name, value in changes.items():
            setattr(organization, name, value)
        _apply_branding(organization, branding or {})
        organization.save()
    return organization


@transaction.atomic
def organization_update_branding(
    *,
    actor: Actor,
    organization: Organization,
    branding: dict[str, Any],
    precondition: Precondition | None = None,
) -> Organization:
    organization = lock(organization, precondition)
    with AUDITED.change("org.branding.updated", actor=actor, row=organization):
        _apply_branding(organization, branding)
        organization.save()
    return organization


def _guard_protected(organization: Organization, action: str) -> None:
    if organization.is_super_admin and action in PROTECTED_ACTIONS:
        raise Forbidden(protected_refusal(action))


_PAST = {"suspend": "suspended", "archive": "archived", "delete": "deleted"}


def protected_refusal(action: str) -> str:
    return f"The super-admin organization cannot be {_PAST.get(action, action + 'ed')}"


ORGANIZATION_STATUS = StateMachine(
    noun="organization", table=ORGANIZATION_TRANSITIONS, audited=AUDITED, guard=_guard_protected
)


def organization_transition(
    *,
    actor: Actor,
    organization: Organization,
    action: str,
    reason: str | None = None,
    precondition: Precondition | None = None,
) -> Organization:
    """Apply one row of ORGANIZATION_TRANSITIONS; anything else is a 409 and changes nothing."""
    return transition(
        ORGANIZATION_STATUS,
        organization,
        action,
        actor=actor,
        precondition=precondition,
        metadata=organization_transition_metadata(action, reason),
    )


def organization_transition_metadata(action: str, reason: str | None) -> dict[str, Any] | None:
    """What the audit entry of an organization transition carries besides the change (bulk jobs
    that apply the table set-based write the same)."""
    return {"reason": reason} if reason else None


def cascade_counts(organization: Organization) -> dict[str, int]:
    """What deleting the organization removes. Applications, their roles, permissions and claim
    definitions are global (shared by every organization), so an organization delete removes none."""
    counts = {
        "applications": 0,
        "clients": 0,
        "users": User.objects.filter(organization=organization).count(),
        "roles": 0,
        "permissions": 0,
        "claimDefinitions": 0,
    }
    # Rows of the apps built on organizations (clients), counted by their own selectors.
    counts.update({name: count(organization) for name, count in extensions.cascade_counters.items()})
    return counts


@transaction.atomic
def organization_delete(
    *,
    actor: Actor,
    organization: Organization,
    dry_run: bool = False,
    precondition: Precondition | None = None,
) -> tuple[Organization, dict[str, int]]:
    """Hard-delete the organization and everything it owns; the audit entry outlives it.
    Returns the organization as it was and what was (or, on a dry run, would be) deleted."""
    organization = lock(organization, precondition)
    _guard_protected(organization, "delete")
    counts = cascade_counts(organization)
    if dry_run:
        return organization, counts
    AUDITED.record_deleted("org.destroyed", actor=actor, row=organization, metadata={"cascadeCounts": counts})
    deleted_id = organization.pk
    organization.delete()
    organization.pk = deleted_id  # delete() clears it; the response still names what was deleted
    return organization, counts
