"""``POST /import``: a manifest of organizations, applications, permissions, roles, claim
definitions and clients, imported in one transaction (imports.services)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from imports import services
from imports.api.serializers import ImportFailedSerializer, ImportReportSerializer, ImportRequestSerializer
from imports.manifest import parse_manifest
from organizations.models import Organization
from porta.api.viewsets import PortaViewSet


class ImportViewSet(PortaViewSet):
    """Import is organization-scoped: a credential scoped to one organization may import into that
    organization only (its own organization and its clients); global sections are refused (403)
    and any other organization named is a 404, before anything is written."""

    queryset = Organization.objects.all()
    organization_field = "id"
    permission_map = {"create": "admin:import:write"}
    serializer_class = ImportRequestSerializer

    @extend_schema(
        request=ImportRequestSerializer,
        responses={
            200: ImportReportSerializer,
            422: OpenApiResponse(
                ImportFailedSerializer, description="Items failed; nothing was changed (report in the body)"
            ),
        },
    )
    def create(self, request):
        """Import a manifest. `merge` creates what is missing and skips what exists; `overwrite`
        also updates what exists with the fields each item states; `dry-run` (the default)
        answers exactly what `merge` would, and changes nothing. Any failing item rolls back the
        whole import (422, with the per-section report)."""
        data = self.validated(ImportRequestSerializer)
        manifest = parse_manifest(data["manifest"])
        importer = services.Importer(
            actor=self.principal.actor,
            authorization=self.principal.authorization,
            scope_organization_id=self.principal.scope_organization_id,
        )
        return Response(services.import_manifest(importer=importer, mode=data["mode"], manifest=manifest))
