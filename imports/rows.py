"""Importing one item of a manifest: found by its keys, checked by its API serializer, then
created, skipped or updated through its resource's service (imports.services runs them all in one
transaction). The per-section report is kept here too."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import DataError, IntegrityError, transaction
from rest_framework.exceptions import ValidationError as DrfValidationError

from applications.models import Application, ClaimDefinition, Client
from applications.services import applications as application_services
from applications.services import claims as claim_services
from applications.services import clients as client_services
from audit import services as audit
from imports.manifest import SECTIONS, Section
from organizations import services as organization_services
from organizations.models import Organization
from porta.api.errors import flatten_details
from porta.core.context import Actor
from porta.core.errors import (
    ERROR_NAMES,
    ApiError,
    Conflict,
    Forbidden,
    UnprocessableEntity,
    ValidationFailed,
)
from rbac.models import Permission, Role
from rbac.selectors import AdminAuthorization
from rbac.services import permissions as permission_services
from rbac.services import roles as role_services


@dataclass(frozen=True, slots=True)
class Importer:
    """Who imports: the actor the audit entries name, the admin permissions the items need, and
    the organization scope of the credential (None: every organization)."""

    actor: Actor
    authorization: AdminAuthorization
    scope_organization_id: uuid.UUID | None = None

    def require(self, permission: str) -> None:
        if permission not in self.authorization.permissions:
            raise Forbidden(f"Insufficient permissions. Required: {permission}")


# -- the report -------------------------------------------------------------------------------------


@dataclass
class Report:
    mode: str
    sections: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for section in SECTIONS:
            self.sections[section.key] = {"created": [], "updated": [], "skipped": [], "errors": []}

    def add(self, section: str, outcome: str, entry: dict[str, Any]) -> None:
        self.sections[section][outcome].append(entry)

    def total(self, outcome: str) -> int:
        return sum(len(lists[outcome]) for lists in self.sections.values())

    def as_json(self, *, applied: bool) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "applied": applied,
            "totals": {o: self.total(o) for o in ("created", "updated", "skipped", "errors")},
            **self.sections,
        }


@dataclass
class ManifestRun:
    """One import's pass over the manifest's items, in the import's transaction."""

    importer: Importer
    overwrite: bool
    report: Report
    seen: set[tuple[str, ...]] = field(default_factory=set)

    def item(self, section: Section, index: int, raw: Any) -> None:
        """Import one item in its own savepoint; a failure is reported and undoes only the item
        (the import as a whole is rolled back afterwards)."""
        key = _key_of(section.key, raw)
        entry: dict[str, Any] = {"index": index, **key}
        try:
            with transaction.atomic():
                data = _validated(section, raw)
                identity = (section.key, *(str(v) for v in key.values()))
                if identity in self.seen:
                    raise Conflict(f"The manifest lists this {section.noun} more than once")
                self.seen.add(identity)
                outcome, extra = _HANDLERS[section.key](self, data)
        except ApiError as exc:
            self.report.add(section.key, "errors", {**entry, **_error(exc)})
            return
        except IntegrityError:
            conflict = Conflict(f"The {section.noun} conflicts with an existing one")
            self.report.add(section.key, "errors", {**entry, **_error(conflict)})
            return
        except DataError:  # a value the database cannot hold, past the serializer's checks
            invalid = ValidationFailed(f"The {section.noun} has a value the database cannot store")
            self.report.add(section.key, "errors", {**entry, **_error(invalid)})
            return
        self.report.add(section.key, outcome, {**entry, **extra})

    # -- merge / overwrite, the same for every resource ---------------------------------------------

    def apply(
        self,
        *,
        resource: str,
        existing: Any,
        create: Callable[[], Any],
        changes: Callable[[Any], dict[str, Any]],
        update: Callable[[Any, dict[str, Any]], Any],
        audited: Any,
        update_permission: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """Create ``existing`` when it is None; else skip it (merge, or nothing differs) or update
        what ``changes`` says differs (overwrite). Each write needs the permission of the API
        route that would make it; the report's changes are the audited fields' before and after."""
        if existing is None:
            self.importer.require(f"admin:{resource}:create")
            row = create()
            return "created", {"id": str(row.pk)}
        if not self.overwrite:
            return "skipped", {"id": str(existing.pk), "reason": "Already exists"}
        wanted = changes(existing)
        if not wanted:
            return "skipped", {"id": str(existing.pk), "reason": "Unchanged"}
        self.importer.require(update_permission or f"admin:{resource}:update")
        before = audited.snapshot(existing)
        row = update(existing, wanted)
        return "updated", {"id": str(row.pk), "changes": audit.diff(before, audited.snapshot(row))}

    # -- the resources ------------------------------------------------------------------------------

    def organization(self, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        actor = self.importer.actor
        existing = Organization.objects.filter(slug=data["slug"]).first()
        branding = data.pop("branding", None) or {}

        def changes(org: Organization) -> dict[str, Any]:
            wanted = _differing(org, data, ("name", "default_locale", "default_login_methods"))
            differing_branding = {
                key: value
                for key, value in branding.items()
                if getattr(org, organization_services.BRANDING_FIELDS[key]) != value
            }
            if differing_branding:
                wanted["branding"] = differing_branding
            return wanted

        return self.apply(
            resource="org",
            existing=existing,
            create=lambda: organization_services.organization_create(actor=actor, branding=branding, **data),
            changes=changes,
            update=lambda org, wanted: organization_services.organization_update(
                actor=actor, organization=org, **wanted
            ),
            audited=organization_services.AUDITED,
        )

    def application(self, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        actor = self.importer.actor
        return self.apply(
            resource="app",
            existing=Application.objects.filter(slug=data["slug"]).first(),
            create=lambda: application_services.application_create(actor=actor, **data),
            changes=lambda app: _differing(app, data, ("name", "description")),
            update=lambda app, wanted: application_services.application_update(
                actor=actor, application=app, **wanted
            ),
            audited=application_services.APPLICATION_AUDITED,
        )

    def permission(self, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        actor = self.importer.actor
        application = _application(data.pop("applicationSlug"))
        _blank_for_null(data, "description")
        return self.apply(
            resource="permission",
            existing=Permission.objects.filter(application=application, slug=data["slug"]).first(),
            create=lambda: permission_services.permission_create(
                actor=actor, application=application, **data
            ),
            changes=lambda permission: _differing(permission, data, ("name", "description")),
            update=lambda permission, wanted: permission_services.permission_update(
                actor=actor, permission=permission, **wanted
            ),
            audited=permission_services.AUDITED,
            update_permission="admin:permission:create",  # as the API's (upstream §9)
        )

    def role(self, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        actor = self.importer.actor
        application = _application(data.pop("applicationSlug"))
        slugs = data.pop("permissions", None)
        _blank_for_null(data, "description")
        wanted_permissions = None if slugs is None else _permissions_of(application, slugs)
        existing = Role.objects.filter(application=application, slug=data["slug"]).first()

        def create() -> Role:
            role = role_services.role_create(actor=actor, application=application, **data)
            if wanted_permissions:
                self._assign(role, wanted_permissions)
            return role

        def changes(role: Role) -> dict[str, Any]:
            wanted = _differing(role, data, ("name", "description"))
            if wanted_permissions is not None:
                held = set(role.role_permissions.values_list("permission_id", flat=True))
                if held != {p.id for p in wanted_permissions}:
                    wanted["permissions"] = wanted_permissions
            return wanted

        def update(role: Role, wanted: dict[str, Any]) -> Role:
            permissions = wanted.pop("permissions", None)
            if wanted:
                role = role_services.role_update(actor=actor, role=role, **wanted)
            if permissions is not None:
                self._replace_permissions(role, permissions)
            return role

        outcome, entry = self.apply(
            resource="role",
            existing=existing,
            create=create,
            changes=changes,
            update=update,
            audited=role_services.AUDITED,
        )
        if outcome == "updated" and wanted_permissions is not None:
            entry["changes"]["permissions"] = {"after": sorted(p.slug for p in wanted_permissions)}
        return outcome, entry

    def _assign(self, role: Role, permissions: list[Permission]) -> None:
        self.importer.require("admin:role:update")
        role_services.role_permissions_assign(
            actor=self.importer.actor,
            authorization=self.importer.authorization,
            role=role,
            permission_ids=[p.id for p in permissions],
        )

    def _replace_permissions(self, role: Role, permissions: list[Permission]) -> None:
        held = set(role.role_permissions.values_list("permission_id", flat=True))
        wanted = {p.id for p in permissions}
        if wanted - held:
            self._assign(role, [p for p in permissions if p.id not in held])
        if held - wanted:
            role_services.role_permissions_remove(
                actor=self.importer.actor, role=role, permission_ids=list(held - wanted)
            )

    def claim_definition(self, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        actor = self.importer.actor
        application = _application(data.pop("applicationSlug"))
        flags = ("description", "include_in_id_token", "include_in_access_token", "include_in_userinfo")

        def changes(claim: ClaimDefinition) -> dict[str, Any]:
            wanted = _differing(claim, data, flags)
            if data["claim_type"] != claim.claim_type:
                wanted["claim_type"] = data["claim_type"]  # refused by the service: immutable
            return wanted

        return self.apply(
            resource="claim",
            existing=ClaimDefinition.objects.filter(application=application, name=data["name"]).first(),
            create=lambda: claim_services.claim_create(actor=actor, application=application, **data),
            changes=changes,
            update=lambda claim, wanted: claim_services.claim_update(actor=actor, claim=claim, **wanted),
            audited=claim_services.AUDITED,
        )

    def client(self, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        actor = self.importer.actor
        organization = Organization.objects.filter(slug=data.pop("organizationSlug")).first()
        if organization is None:
            raise _missing("organizationSlug", "Organization")
        application = _application(data.pop("applicationSlug"))
        existing = self._existing_client(organization, application, data)
        updatable = [f for f in client_services.UPDATABLE_FIELDS if f in data]

        def create() -> Client:
            client, _ = client_services.client_create(
                actor=actor,
                organization_id=organization.id,
                application_id=application.id,
                initial_secret=False,
                **data,
            )
            return client

        def changes(client: Client) -> dict[str, Any]:
            wanted = _differing(client, data, updatable)
            # Fixed at creation: repeated so the service refuses a manifest that changes them.
            fixed = {"client_type": data["client_type"], "application_type": data["application_type"]}
            fixed.update(organization_id=organization.id, application_id=application.id)
            if wanted or any(str(getattr(client, k)) != str(v) for k, v in fixed.items()):
                wanted.update(fixed)
            return wanted

        outcome, entry = self.apply(
            resource="client",
            existing=existing,
            create=create,
            changes=changes,
            update=lambda client, wanted: client_services.client_update(actor=actor, client=client, **wanted),
            audited=client_services.AUDITED,
        )
        if outcome == "created" and data["client_type"] == "confidential":
            entry["note"] = "No secret is imported: add one with POST /api/admin/clients/{id}/secrets"
        return outcome, entry

    def _existing_client(
        self, organization: Organization, application: Application, data: dict[str, Any]
    ) -> Client | None:
        clients = Client.objects.all()
        if self.importer.scope_organization_id is not None:
            clients = clients.filter(organization_id=self.importer.scope_organization_id)
        if data.get("client_id"):
            client = clients.filter(client_id=data["client_id"]).first()
            if client is not None and (client.organization_id, client.application_id) != (
                organization.id,
                application.id,
            ):
                raise Conflict(
                    f"clientId '{client.client_id}' is taken by a client of another organization or app",
                    details={"clientId": ["Already in use."]},
                )
            return client
        named = list(
            clients.filter(
                organization=organization, application=application, client_name=data["client_name"]
            )[:2]
        )
        if len(named) > 1:
            raise Conflict(
                f"Several clients are named '{data['client_name']}' here: give clientId to say which",
                details={"clientId": ["Required to tell clients of the same name apart."]},
            )
        return named[0] if named else None


_HANDLERS: dict[str, Callable[[ManifestRun, dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    "organizations": ManifestRun.organization,
    "applications": ManifestRun.application,
    "permissions": ManifestRun.permission,
    "roles": ManifestRun.role,
    "claimDefinitions": ManifestRun.claim_definition,
    "clients": ManifestRun.client,
}

#: The manifest keys that name an item in the report.
_KEYS = {
    "organizations": ("slug",),
    "applications": ("slug",),
    "permissions": ("applicationSlug", "slug"),
    "roles": ("applicationSlug", "slug"),
    "claimDefinitions": ("applicationSlug", "claimName"),
    "clients": ("organizationSlug", "applicationSlug", "clientName", "clientId"),
}


# -- helpers ----------------------------------------------------------------------------------------


def _key_of(section: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return {}
    return {k: raw[k] for k in _KEYS[section] if isinstance(raw.get(k), str | int | float)}


def _validated(section: Section, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValidationFailed("An item must be an object", details={"item": ["Must be an object."]})
    serializer = section.item(data=raw)
    try:
        serializer.is_valid(raise_exception=True)
    except DrfValidationError as exc:
        details = flatten_details(exc.detail)
        raise ValidationFailed("Validation failed: " + ", ".join(sorted(details)), details=details) from exc
    return dict(serializer.validated_data)


def _error(exc: ApiError) -> dict[str, Any]:
    body = {
        "error": exc.error or ERROR_NAMES[exc.status_code],
        "message": exc.message,
        "statusCode": exc.status_code,
    }
    if exc.details:
        body["details"] = exc.details
    return body


def _differing(row: Any, data: dict[str, Any], fields: Any) -> dict[str, Any]:
    """The fields of ``data`` (among ``fields``) whose value differs from ``row``'s."""
    return {name: data[name] for name in fields if name in data and getattr(row, name) != data[name]}


def _blank_for_null(data: dict[str, Any], name: str) -> None:
    """Roles and permissions store a cleared description as "" (as their services do)."""
    if name in data and data[name] is None:
        data[name] = ""


def _missing(field_name: str, label: str) -> UnprocessableEntity:
    return UnprocessableEntity(f"{label} not found", details={field_name: [f"{label} not found."]})


def _application(slug: str) -> Application:
    application = Application.objects.filter(slug=slug).first()
    if application is None:
        raise _missing("applicationSlug", "Application")
    return application


def _permissions_of(application: Application, slugs: list[str]) -> list[Permission]:
    wanted = list(dict.fromkeys(slugs))
    found = {p.slug: p for p in Permission.objects.filter(application=application, slug__in=wanted)}
    missing = [slug for slug in wanted if slug not in found]
    if missing:
        message = f"Not permissions of application '{application.slug}': {', '.join(missing)}"
        raise UnprocessableEntity(message, details={"permissions": [message]})
    return [found[slug] for slug in wanted]
