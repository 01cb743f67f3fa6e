"""The import manifest: its structure, and each section's item checked exactly as the API's body.

A manifest is ``{"version": "1.0", "organizations": [...], "applications": [...],
"permissions": [...], "roles": [...], "claimDefinitions": [...], "clients": [...]}`` with every
section optional. Items use the API's camelCase names; rows are named by slug (never by id, so a
manifest moves between installations) and references to other rows by ``organizationSlug`` /
``applicationSlug``. Each item is validated by the create serializer of its resource's own API,
extended with the keys a manifest needs, so an item is refused for exactly what the API would
refuse. Secrets, password hashes and keys are never imported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from applications.api.claim_serializers import ClaimCreateSerializer
from applications.api.client_serializers import ClientCreateSerializer
from applications.api.serializers import ApplicationCreateSerializer
from organizations.api.serializers import OrganizationCreateSerializer
from porta.core.errors import ValidationFailed
from rbac.api.serializers import PermissionCreateSerializer, RoleCreateSerializer

MANIFEST_VERSION = "1.0"
#: A manifest names at most this many rows; the 2 MiB body limit comes first for most manifests.
MAX_ITEMS = 10_000
#: Keys that would carry a secret. Named in the error, so nobody wonders where theirs went.
SECRET_KEYS = frozenset(
    {
        "secret", "secrets", "clientSecret", "clientSecrets", "secretHash", "secretLabel", "password",
        "passwordHash", "privateKey", "keys", "apiKey", "apiKeys", "token", "tokens",
    }
)  # fmt: skip
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._~-]{1,100}$")


class OrganizationItem(OrganizationCreateSerializer):
    """An organization, matched by its slug (so the slug is required)."""

    slug = serializers.CharField(min_length=3, max_length=100)


class ApplicationItem(ApplicationCreateSerializer):
    """An application, matched by its slug."""

    slug = serializers.CharField(min_length=3, max_length=100)


class PermissionItem(PermissionCreateSerializer):
    """A permission of the application ``applicationSlug``, matched by its slug there."""

    applicationSlug = serializers.CharField(max_length=100)


class RoleItem(RoleCreateSerializer):
    """A role of the application ``applicationSlug``, matched by its slug there. ``permissions``
    lists the slugs of the permissions it grants (of the same application)."""

    applicationSlug = serializers.CharField(max_length=100)
    slug = serializers.CharField(min_length=1, max_length=100)
    permissions = serializers.ListField(
        child=serializers.CharField(max_length=150), max_length=1000, required=False
    )


class ClaimDefinitionItem(ClaimCreateSerializer):
    """A custom claim of the application ``applicationSlug``, matched by its name there."""

    applicationSlug = serializers.CharField(max_length=100)


class ClientItem(ClientCreateSerializer):
    """An OIDC client of ``organizationSlug`` for ``applicationSlug``, matched by ``clientId`` when
    given (and then created with it), else by its name within that organization and application."""

    ignored_fields = frozenset(
        {"id", "createdAt", "updatedAt", "status", "effectiveLoginMethods", "usable", "unusableReason"}
    )
    organizationId = None
    applicationId = None
    secretLabel = None  # no secret is created by an import: see imports.services
    organizationSlug = serializers.CharField(max_length=100)
    applicationSlug = serializers.CharField(max_length=100)
    clientId = serializers.RegexField(
        _CLIENT_ID,
        source="client_id",
        required=False,
        error_messages={"invalid": "1-100 characters of letters, digits and . _ ~ -"},
    )


@dataclass(frozen=True, slots=True)
class Section:
    """One section of a manifest: its key, the noun of its rows and how an item is checked."""

    key: str
    noun: str
    item: type[serializers.Serializer]


#: The sections in dependency order: a row is imported after the rows it names.
SECTIONS: tuple[Section, ...] = (
    Section("organizations", "organization", OrganizationItem),
    Section("applications", "application", ApplicationItem),
    Section("permissions", "permission", PermissionItem),
    Section("roles", "role", RoleItem),
    Section("claimDefinitions", "claim definition", ClaimDefinitionItem),
    Section("clients", "client", ClientItem),
)
#: Sections of global rows (no organization): out of reach of organization-scoped credentials.
GLOBAL_SECTIONS = frozenset({"applications", "permissions", "roles", "claimDefinitions"})


@dataclass(frozen=True, slots=True)
class Manifest:
    """A manifest whose structure is valid; its items are still raw (checked one by one on import)."""

    sections: Mapping[str, list[Any]]

    @property
    def item_count(self) -> int:
        return sum(len(items) for items in self.sections.values())

    def items(self, key: str) -> list[Any]:
        return self.sections.get(key, [])

    def as_json(self) -> dict[str, Any]:
        return {"version": MANIFEST_VERSION, **self.sections}


def parse_manifest(raw: Any) -> Manifest:
    """The manifest's structure checked: an object, version 1.0, known sections, each a list, at
    most MAX_ITEMS items in all. Anything else is a 400 naming the problem; nothing is imported."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed("The manifest must be an object", details={"manifest": ["Must be an object."]})
    problems: dict[str, list[str]] = {}
    version = raw.get("version")
    if version != MANIFEST_VERSION:
        problems["manifest.version"] = [f'Must be "{MANIFEST_VERSION}".']
    known = {section.key for section in SECTIONS}
    for key in sorted(set(raw) - known - {"version", "exportedAt"}):
        problems[f"manifest.{key}"] = ["Unknown section."]
    sections = {}
    for section in SECTIONS:
        items = raw.get(section.key)
        if items is None:
            continue
        if not isinstance(items, list):
            problems[f"manifest.{section.key}"] = ["Must be a list."]
            continue
        sections[section.key] = items
    count = sum(len(items) for items in sections.values())
    if count > MAX_ITEMS:
        problems["manifest"] = [f"At most {MAX_ITEMS} items in all; this manifest has {count}."]
    # Refused before anything runs or is stored (a large manifest waits in its job's row).
    secrets = [
        f"manifest.{key}[{index}].{name}"
        for key, items in sections.items()
        for index, item in enumerate(items)
        for name in secret_keys_in(item)
    ]
    if secrets:
        raise ValidationFailed(
            "Secrets are never imported: " + ", ".join(secrets[:10]),
            details={name: ["Secrets are never imported."] for name in secrets},
        )
    if problems:
        first = next(iter(problems))
        raise ValidationFailed(f"Invalid manifest: {first}: {problems[first][0]}", details=problems)
    return Manifest(sections=sections)


def secret_keys_in(item: Any) -> list[str]:
    """The keys of ``item`` that would carry a secret (at any depth)."""
    found: list[str] = []
    if isinstance(item, Mapping):
        for key, value in item.items():
            if key in SECRET_KEYS:
                found.append(str(key))
            found.extend(f"{key}.{inner}" for inner in secret_keys_in(value))
    elif isinstance(item, list):
        for value in item:
            found.extend(secret_keys_in(value))
    return found
