"""``GET /export/{users|organizations|clients|roles|audit}``: the rows a list would show, all of
them, streamed as CSV or JSON.

Each entity is its own viewset so that the base viewset applies its tenancy as for the entity's
list: users, clients and audit entries are narrowed to an organization-scoped caller's
organization; organizations and roles are global (organization-scoped callers get 403, as for
their lists). The filters, ``sort`` and ``order`` are the list's own.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any, ClassVar

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.negotiation import DefaultContentNegotiation

from exports import services
from exports.columns import AUDIT, CLIENTS, ORGANIZATIONS, ROLES, USERS, ExportSpec
from exports.filtersets import FILTERSETS
from exports.selectors import ROWS
from exports.streaming import csv_stream, json_stream
from porta.api.pagination import ordering_from_request
from porta.api.serializers import iso_ms
from porta.api.viewsets import PortaViewSet, apply_filterset
from porta.core.errors import ValidationFailed
from porta.core.ids import parse_uuid

FORMATS = {"csv": ("text/csv; charset=utf-8", "csv"), "json": ("application/json", "json")}


class _FormatIsNotARenderer(DefaultContentNegotiation):
    """Here ``?format=`` names the export's format, not a DRF renderer (DRF would answer 404 to
    ``format=csv``), and the body is not rendered by DRF at all; errors are JSON as everywhere."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def export_parameters(spec: ExportSpec, filterset_class) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            "format", OpenApiTypes.STR, enum=list(FORMATS), description="csv or json (default json)"
        ),
        OpenApiParameter("sort", OpenApiTypes.STR, enum=sorted(spec.sort_fields)),
        OpenApiParameter("order", OpenApiTypes.STR, enum=["asc", "desc"]),
        *(OpenApiParameter(name, OpenApiTypes.STR) for name in filterset_class.base_filters),
    ]


def export_responses(spec: ExportSpec) -> dict:
    row = inline_serializer(
        name=f"{spec.entity.capitalize()}ExportRow",
        fields={column.name: serializers.JSONField(allow_null=True) for column in spec.columns},
        many=True,
    )
    envelope = inline_serializer(
        name=f"{spec.entity.capitalize()}Export",
        fields={
            "data": row,
            "exportedAt": serializers.CharField(),
            "total": serializers.IntegerField(),
        },
    )
    header = ",".join(spec.header)
    return {
        (200, "application/json"): OpenApiResponse(envelope, description="The rows, streamed"),
        (200, "text/csv"): OpenApiResponse(
            OpenApiTypes.STR, description=f"RFC 4180 CSV with the header row `{header}`, streamed"
        ),
    }


class ExportViewSet(PortaViewSet):
    """The export of one entity; subclasses name it."""

    spec: ClassVar[ExportSpec]
    #: The entity's own read permission, required besides ``admin:export:read``: an export shows
    #: nothing its list would not.
    read_permission: ClassVar[str]
    permission_map = {"list": "admin:export:read"}
    content_negotiation_class = _FormatIsNotARenderer
    allow_cursor = False

    def scoped_queryset(self) -> QuerySet:
        return ROWS[self.spec.entity]()

    @property
    def export_filterset(self):
        return FILTERSETS[self.spec.entity]

    def initial(self, request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.read_permission not in self.principal.authorization.permissions:
            raise PermissionDenied(f"Insufficient permissions. Required: {self.read_permission}")

    def export_format(self) -> str:
        value = self.request.query_params.get("format") or "json"
        if value not in FORMATS:
            raise ValidationFailed(
                "format must be csv or json", details={"format": ["Must be one of: csv, json."]}
            )
        return value

    def export_rows(self) -> QuerySet:
        """The caller's rows, filtered and in the list's order (``id`` breaks ties)."""
        ordering = ordering_from_request(
            self.request.query_params,
            sort_fields=self.spec.sort_fields,
            default_sort=self.spec.default_sort,
            default_order=self.spec.default_order,
        )
        rows = apply_filterset(self.export_filterset, self.request, self.get_queryset())
        return rows.order_by(*ordering.order_by())

    def applied_filters(self) -> dict[str, str]:
        names = {*self.export_filterset.base_filters, "sort", "order"}
        return {name: value for name, value in self.request.query_params.items() if name in names}

    def audit_organization(self) -> uuid.UUID | None:
        """The organization the exported rows belong to, when one is named."""
        scope = self.principal.scope_organization_id
        if scope is not None:
            return scope
        if "organizationId" not in self.export_filterset.base_filters:
            return None
        return parse_uuid(self.request.query_params.get("organizationId") or "")

    def list(self, request, *args: Any, **kwargs: Any):
        export_format = self.export_format()
        rows = self.export_rows()
        now = datetime.datetime.now(datetime.UTC)
        services.export_recorded(
            actor=self.principal.actor,
            entity=self.spec.entity,
            export_format=export_format,
            filters=self.applied_filters(),
            organization_id=self.audit_organization(),
        )
        content_type, extension = FORMATS[export_format]
        if export_format == "csv":
            body = csv_stream(self.spec, rows)
        else:
            body = json_stream(self.spec, rows, exported_at=iso_ms(now))
        response = StreamingHttpResponse(body, content_type=content_type)
        filename = f"{self.spec.entity}-export-{now.strftime('%Y-%m-%dT%H-%M-%S')}.{extension}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response


def export_schema(spec: ExportSpec, read_permission: str):
    return extend_schema(
        operation_id=f"export_{spec.entity}",
        parameters=export_parameters(spec, FILTERSETS[spec.entity]),
        responses=export_responses(spec),
        description=f"Streams every matching row (no row cap). Also requires `{read_permission}`.",
    )


@extend_schema_view(list=export_schema(USERS, "admin:user:read"))
class UserExportViewSet(ExportViewSet):
    """Users, of every organization or of ``organizationId``."""

    spec = USERS
    queryset = ROWS["users"]()
    read_permission = "admin:user:read"
    organization_field = "organization_id"


@extend_schema_view(list=export_schema(ORGANIZATIONS, "admin:org:read"))
class OrganizationExportViewSet(ExportViewSet):
    """Organizations: global, as their list is (organization-scoped credentials get 403)."""

    spec = ORGANIZATIONS
    queryset = ROWS["organizations"]()
    read_permission = "admin:org:read"
    organization_field = None


@extend_schema_view(list=export_schema(CLIENTS, "admin:client:read"))
class ClientExportViewSet(ExportViewSet):
    """OIDC clients (never their secrets)."""

    spec = CLIENTS
    queryset = ROWS["clients"]()
    read_permission = "admin:client:read"
    organization_field = "organization_id"


@extend_schema_view(list=export_schema(ROLES, "admin:role:read"))
class RoleExportViewSet(ExportViewSet):
    """Roles of every application or of ``applicationId``: global, like applications."""

    spec = ROLES
    queryset = ROWS["roles"]()
    read_permission = "admin:role:read"
    organization_field = None


@extend_schema_view(list=export_schema(AUDIT, "admin:audit:read"))
class AuditExportViewSet(ExportViewSet):
    """Audit entries, with the audit list's filters (``eventType``, ``since``, ``until``, …)."""

    spec = AUDIT
    queryset = ROWS["audit"]()
    read_permission = "admin:audit:read"
    organization_field = "organization_id"
