"""What each export holds: its columns under the API's camelCase names, and how each value is
written.

One description per entity serves every path: the PostgreSQL ``COPY`` statements (CSV and JSON)
render each value in SQL, and the fallback for other databases renders the same values in Python,
so both give the text the API gives for the same row (ISO 8601 UTC with milliseconds, ``true`` and
``false``, UUIDs in lower-case hex). Only the columns listed here leave the database: secrets and
hashes (password hashes, client secrets) are never listed.
"""

from __future__ import annotations

import datetime
import json
import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Any

from porta.api.serializers import iso_ms


class Kind(Enum):
    TEXT = "text"
    UUID = "uuid"
    BOOL = "bool"
    INT = "int"
    TIMESTAMP = "timestamp"
    DATE = "date"
    JSON = "json"
    IP = "ip"


# to_char truncates to milliseconds, as iso_ms does.
_ISO_MS = '\'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\''


@dataclass(frozen=True, slots=True)
class Column:
    """One exported value: its wire name, the model field it comes from, and its kind."""

    name: str
    field: str
    kind: Kind = Kind.TEXT

    def csv_sql(self, ref: str) -> str:
        """SQL rendering the value as the text of a CSV cell (NULL stays NULL: an empty cell)."""
        if self.kind is Kind.BOOL:
            return f"({ref})::text"  # true/false (COPY would write t/f)
        if self.kind is Kind.TIMESTAMP:
            return f"to_char({ref} AT TIME ZONE 'UTC', {_ISO_MS})"
        if self.kind is Kind.DATE:
            return f"to_char({ref}, 'YYYY-MM-DD')"
        if self.kind is Kind.IP:
            return f"host({ref})"  # inet::text would append the netmask (/32)
        # COPY writes every other kind through its output function, which already gives the
        # API's text (uuid_out: lower-case hex; jsonb_out; int4out): no cast, so the plan keeps
        # fewer expressions to evaluate per row.
        return ref

    def json_sql(self, ref: str) -> str:
        """SQL rendering the value for ``row_to_json``: strings, booleans, numbers and JSON values
        keep their JSON types."""
        if self.kind is Kind.TIMESTAMP:
            return f"to_char({ref} AT TIME ZONE 'UTC', {_ISO_MS})"
        if self.kind is Kind.DATE:
            return f"to_char({ref}, 'YYYY-MM-DD')"
        if self.kind is Kind.IP:
            return f"host({ref})"
        return ref

    def python_value(self, value: Any) -> Any:
        """The value as the JSON export holds it (the fallback path)."""
        if value is None:
            return None
        if self.kind is Kind.TIMESTAMP:
            return iso_ms(value)
        if self.kind is Kind.DATE:
            return value.isoformat() if isinstance(value, datetime.date) else str(value)
        if self.kind in (Kind.UUID, Kind.IP):
            return str(value)
        return value

    def csv_text(self, value: Any) -> str | None:
        """The value as the text of a CSV cell (the fallback path); None for an empty cell."""
        value = self.python_value(value)
        if value is None:
            return None
        if self.kind is Kind.BOOL:
            return "true" if value else "false"
        if self.kind is Kind.JSON:
            return json.dumps(value, ensure_ascii=False)
        if isinstance(value, uuid.UUID):
            return str(value)
        return str(value)


@dataclass(frozen=True, slots=True)
class ExportSpec:
    """An exportable entity: its columns, how its rows belong to an organization (None: global
    rows, which organization-scoped credentials may not export), and the sorts its list takes."""

    entity: str
    columns: tuple[Column, ...]
    organization_field: str | None
    sort_fields: dict[str, str]
    default_sort: str = "createdAt"
    default_order: str = "desc"

    @property
    def header(self) -> list[str]:
        return [column.name for column in self.columns]


_CREATED = Column("createdAt", "created_at", Kind.TIMESTAMP)
_UPDATED = Column("updatedAt", "updated_at", Kind.TIMESTAMP)

USERS = ExportSpec(
    entity="users",
    organization_field="organization_id",
    columns=(
        Column("id", "id", Kind.UUID),
        Column("organizationId", "organization_id", Kind.UUID),
        Column("externalId", "external_id"),
        Column("email", "email"),
        Column("emailVerified", "email_verified", Kind.BOOL),
        Column("status", "status"),
        Column("givenName", "given_name"),
        Column("familyName", "family_name"),
        Column("nickname", "nickname"),
        Column("locale", "locale"),
        Column("phoneNumber", "phone_number"),
        _CREATED,
        _UPDATED,
        Column("lastLoginAt", "last_login", Kind.TIMESTAMP),
    ),
    sort_fields={"createdAt": "created_at", "updatedAt": "updated_at", "email": "email"},
)

ORGANIZATIONS = ExportSpec(
    entity="organizations",
    organization_field=None,
    columns=(
        Column("id", "id", Kind.UUID),
        Column("name", "name"),
        Column("slug", "slug"),
        Column("status", "status"),
        Column("isSuperAdmin", "is_super_admin", Kind.BOOL),
        Column("defaultLocale", "default_locale"),
        _CREATED,
        _UPDATED,
    ),
    sort_fields={"createdAt": "created_at", "updatedAt": "updated_at", "name": "name", "slug": "slug"},
)

CLIENTS = ExportSpec(
    entity="clients",
    organization_field="organization_id",
    columns=(
        Column("id", "id", Kind.UUID),
        Column("organizationId", "organization_id", Kind.UUID),
        Column("applicationId", "application_id", Kind.UUID),
        Column("clientId", "client_id"),
        Column("clientName", "client_name"),
        Column("clientType", "client_type"),
        Column("status", "status"),
        Column("applicationType", "application_type"),
        Column("grantTypes", "grant_types", Kind.JSON),
        Column("redirectUris", "redirect_uris", Kind.JSON),
        _CREATED,
        _UPDATED,
    ),
    sort_fields={"createdAt": "created_at", "updatedAt": "updated_at", "clientName": "client_name"},
)

ROLES = ExportSpec(
    entity="roles",
    organization_field=None,
    columns=(
        Column("id", "id", Kind.UUID),
        Column("applicationId", "application_id", Kind.UUID),
        Column("name", "name"),
        Column("slug", "slug"),
        Column("description", "description"),
        Column("isSystem", "is_system", Kind.BOOL),
        _CREATED,
        _UPDATED,
    ),
    sort_fields={"createdAt": "created_at", "name": "name", "slug": "slug"},
)

AUDIT = ExportSpec(
    entity="audit",
    organization_field="organization_id",
    columns=(
        Column("id", "id", Kind.UUID),
        Column("eventType", "event_type"),
        Column("actorType", "actor_type"),
        Column("actorId", "actor_id", Kind.UUID),
        Column("actorLabel", "actor_label"),
        Column("organizationId", "organization_id", Kind.UUID),
        Column("targetType", "target_type"),
        Column("targetId", "target_id"),
        Column("metadata", "metadata", Kind.JSON),
        Column("ipAddress", "ip_address", Kind.IP),
        Column("userAgent", "user_agent"),
        Column("requestId", "request_id"),
        _CREATED,
    ),
    sort_fields={"createdAt": "created_at"},
)

SPECS: dict[str, ExportSpec] = {spec.entity: spec for spec in (USERS, ORGANIZATIONS, CLIENTS, ROLES, AUDIT)}
