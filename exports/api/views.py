"""``/export/{users|organizations|clients|roles|audit}``: the rows a list would show, all of them,
as CSV or JSON. ``GET`` streams them; ``POST`` (or a ``GET`` the planner estimates above
``PORTA_EXPORT_STREAM_MAX_ROWS`` rows) writes them to a job's file instead: 202 ``{jobId}``, the
file then downloads from ``GET /jobs/{id}/download``.

Each entity is its own viewset so that the base viewset applies its tenancy as for the entity's
list: users, clients and audit entries are narrowed to an organization-scoped caller's
organization; organizations and roles are global (organization-scoped callers get 403, as for
their lists). The filters, ``sort`` and ``order`` are the list's own.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from django.conf import settings
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
from exports.jobs import KINDS
from exports.selectors import ROWS, narrowed
from exports.streaming import FORMATS, download_name, estimated_rows, export_stream
from jobs.api.responses import job_accepted
from jobs.api.serializers import JobAcceptedSerializer
from jobs.services import job_enqueue
from porta.api.viewsets import PortaViewSet
from porta.core.errors import ValidationFailed
from porta.core.ids import parse_uuid

_KIND_OF = {entity: kind for kind, entity in KINDS.items()}


class _FormatIsNotARenderer(DefaultContentNegotiation):
    """Here ``?format=`` names the export's format, not a DRF renderer (DRF would answer 404 to
    ``format=csv``), and the body is not rendered by DRF at all; errors are JSON as everywhere."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportViewSet(PortaViewSet):
    """The export of one entity; subclasses name it."""

    spec: ClassVar[ExportSpec]
    #: The entity's own read permission, required besides ``admin:export:read``: an export shows
    #: nothing its list would not.
    read_permission: ClassVar[str]
    permission_map = {"list": "admin:export:read", "create": "admin:export:read"}
    content_negotiation_class = _FormatIsNotARenderer
    allow_cursor = False

    def scoped_queryset(self) -> QuerySet:
        return ROWS[self.spec.entity]()

    def initial(self, request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.read_permission not in self.principal.authorization.permissions:
            raise PermissionDenied(f"Insufficient permissions. Required: {self.read_permission}")

    # -- what the request asks for ---------------------------------------------------------------

    @property
    def accepted_names(self) -> set[str]:
        return {"format", "sort", "order", *FILTERSETS[self.spec.entity].base_filters}

    def export_query(self) -> dict[str, str]:
        """The export's parameters: the query string, and for POST also a JSON body with the same
        names (the body wins). Other names are ignored in the query, as lists ignore them, and
        refused in a body, as every body refuses unknown fields."""
        query = {
            name: value for name, value in self.request.query_params.items() if name in self.accepted_names
        }
        if self.request.method == "POST":
            data = self.request.data
            if not isinstance(data, Mapping):
                raise ValidationFailed(
                    "The body must be a JSON object", details={"body": ["Must be an object."]}
                )
            unknown = sorted(set(data) - self.accepted_names)
            if unknown:
                raise ValidationFailed(
                    "Unknown field: " + ", ".join(unknown),
                    details={name: ["Unknown field."] for name in unknown},
                )
            wrong = sorted(name for name, value in data.items() if not isinstance(value, str))
            if wrong:
                raise ValidationFailed(
                    "Invalid field: " + ", ".join(wrong),
                    details={name: ["Must be a string."] for name in wrong},
                )
            query.update(data)
        named = parse_uuid(query.get("organizationId") or "")
        if named is not None and "organizationId" in FILTERSETS[self.spec.entity].base_filters:
            # As on the nested lists (/organizations/{id}/users): another tenant's organization is
            # a 404, indistinguishable from one that does not exist.
            self.check_body_organization(named)
        return query

    @staticmethod
    def export_format(query: Mapping[str, str]) -> str:
        value = query.get("format") or "json"
        if value not in FORMATS:
            raise ValidationFailed(
                "format must be csv or json", details={"format": ["Must be one of: csv, json."]}
            )
        return value

    def organization_of_export(self, query: Mapping[str, str]) -> uuid.UUID | None:
        """The organization the exported rows belong to, when one is known: the caller's scope,
        or the ``organizationId`` filter."""
        scope = self.principal.scope_organization_id
        if scope is not None:
            return scope
        if "organizationId" not in FILTERSETS[self.spec.entity].base_filters:
            return None
        return parse_uuid(query.get("organizationId") or "")

    # -- actions ---------------------------------------------------------------------------------

    def list(self, request, *args: Any, **kwargs: Any):
        query = self.export_query()
        export_format = self.export_format(query)
        rows = narrowed(self.spec, self.get_queryset(), query)
        limit = settings.PORTA_EXPORT_STREAM_MAX_ROWS
        if limit and (estimated_rows(rows) or 0) > limit:
            return self._as_job(query, export_format)
        filters = {name: value for name, value in query.items() if name != "format"}
        services.export_recorded(
            actor=self.principal.actor,
            entity=self.spec.entity,
            export_format=export_format,
            filters=filters,
            organization_id=self.organization_of_export(query),
        )
        now = datetime.datetime.now(datetime.UTC)
        response = StreamingHttpResponse(
            export_stream(self.spec, rows, export_format, now=now), content_type=FORMATS[export_format][0]
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{download_name(self.spec, export_format, now)}"'
        )
        response["Cache-Control"] = "no-store"
        return response

    def create(self, request, *args: Any, **kwargs: Any):
        query = self.export_query()
        export_format = self.export_format(query)
        narrowed(self.spec, self.get_queryset(), query)  # a bad filter is a 400 now, not a failed job
        return self._as_job(query, export_format)

    def _as_job(self, query: dict[str, str], export_format: str):
        job = job_enqueue(
            kind=_KIND_OF[self.spec.entity],
            actor=self.principal.actor,
            organization_id=self.organization_of_export(query),
            parameters={
                "format": export_format,
                "query": {name: value for name, value in query.items() if name != "format"},
            },
        )
        return job_accepted(job)


# -- the OpenAPI description ---------------------------------------------------------------------


def _parameters(spec: ExportSpec) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            "format", OpenApiTypes.STR, enum=list(FORMATS), description="csv or json (default json)"
        ),
        OpenApiParameter("sort", OpenApiTypes.STR, enum=sorted(spec.sort_fields)),
        OpenApiParameter("order", OpenApiTypes.STR, enum=["asc", "desc"]),
        *(OpenApiParameter(name, OpenApiTypes.STR) for name in FILTERSETS[spec.entity].base_filters),
    ]


def _stream_responses(spec: ExportSpec) -> dict:
    name = spec.entity.capitalize()
    row = inline_serializer(
        name=f"{name}ExportRow",
        fields={column.name: serializers.JSONField(allow_null=True) for column in spec.columns},
        many=True,
    )
    envelope = inline_serializer(
        name=f"{name}Export",
        fields={"data": row, "exportedAt": serializers.CharField(), "total": serializers.IntegerField()},
    )
    return {
        (200, "application/json"): OpenApiResponse(envelope, description="The rows, streamed"),
        (200, "text/csv"): OpenApiResponse(
            OpenApiTypes.STR, description=f"RFC 4180 CSV, header row `{','.join(spec.header)}`, streamed"
        ),
        (202, "application/json"): OpenApiResponse(
            JobAcceptedSerializer,
            description="More rows than PORTA_EXPORT_STREAM_MAX_ROWS (planner estimate): run as a job",
        ),
    }


def _body(spec: ExportSpec):
    return inline_serializer(
        name=f"{spec.entity.capitalize()}ExportJobRequest",
        fields={
            name: serializers.CharField(required=False)
            for name in ("format", "sort", "order", *FILTERSETS[spec.entity].base_filters)
        },
    )


def export_schema(spec: ExportSpec, read_permission: str):
    permissions = f"Requires permission `admin:export:read` and `{read_permission}`."
    return extend_schema_view(
        list=extend_schema(
            operation_id=f"export_{spec.entity}",
            parameters=_parameters(spec),
            responses=_stream_responses(spec),
            description=f"Streams every matching row (no row cap). {permissions}",
        ),
        create=extend_schema(
            operation_id=f"export_{spec.entity}_job",
            parameters=_parameters(spec),
            request=_body(spec),
            responses={202: JobAcceptedSerializer},
            description=(
                "Exports the matching rows to a file in a job; the parameters go in the query or in "
                f"the body. The file downloads from `GET /jobs/{{id}}/download`. {permissions}"
            ),
        ),
    )


@export_schema(USERS, "admin:user:read")
class UserExportViewSet(ExportViewSet):
    """Users, of every organization or of ``organizationId``."""

    spec = USERS
    queryset = ROWS["users"]()
    read_permission = "admin:user:read"
    organization_field = USERS.organization_field


@export_schema(ORGANIZATIONS, "admin:org:read")
class OrganizationExportViewSet(ExportViewSet):
    """Organizations: global, as their list is (organization-scoped credentials get 403)."""

    spec = ORGANIZATIONS
    queryset = ROWS["organizations"]()
    read_permission = "admin:org:read"
    organization_field = ORGANIZATIONS.organization_field


@export_schema(CLIENTS, "admin:client:read")
class ClientExportViewSet(ExportViewSet):
    """OIDC clients (never their secrets)."""

    spec = CLIENTS
    queryset = ROWS["clients"]()
    read_permission = "admin:client:read"
    organization_field = CLIENTS.organization_field


@export_schema(ROLES, "admin:role:read")
class RoleExportViewSet(ExportViewSet):
    """Roles of every application or of ``applicationId``: global, like applications."""

    spec = ROLES
    queryset = ROWS["roles"]()
    read_permission = "admin:role:read"
    organization_field = ROLES.organization_field


@export_schema(AUDIT, "admin:audit:read")
class AuditExportViewSet(ExportViewSet):
    """Audit entries, with the audit list's filters (``eventType``, ``since``, ``until``, …)."""

    spec = AUDIT
    queryset = ROWS["audit"]()
    read_permission = "admin:audit:read"
    organization_field = AUDIT.organization_field
