"""``POST /import``: a manifest of organizations, applications, permissions, roles, claim
definitions and clients, imported in one transaction (imports.services)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.response import Response

from imports import services
from imports.api.serializers import ImportReportSerializer, ImportRequestSerializer
from imports.jobs import import_enqueue
from imports.manifest import parse_manifest
from jobs.api.responses import job_accepted
from jobs.api.serializers import JobAcceptedSerializer
from organizations.models import Organization
from porta.api.viewsets import PortaViewSet

_EXAMPLE = {
    "mode": "merge",
    "manifest": {
        "version": "1.0",
        "organizations": [{"slug": "acme", "name": "Acme", "defaultLocale": "en"}],
        "applications": [{"slug": "crm", "name": "CRM"}],
        "permissions": [{"applicationSlug": "crm", "slug": "crm:contacts:read", "name": "Read contacts"}],
        "roles": [
            {
                "applicationSlug": "crm",
                "slug": "viewer",
                "name": "Viewer",
                "permissions": ["crm:contacts:read"],
            }
        ],
        "claimDefinitions": [{"applicationSlug": "crm", "claimName": "tier", "claimType": "string"}],
        "clients": [
            {
                "organizationSlug": "acme",
                "applicationSlug": "crm",
                "clientName": "CRM web",
                "clientType": "public",
                "applicationType": "spa",
                "redirectUris": ["https://crm.example/callback"],
            }
        ],
    },
}


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
        examples=[OpenApiExample("A manifest of every section", value=_EXAMPLE, request_only=True)],
        responses={
            200: ImportReportSerializer,
            202: OpenApiResponse(
                JobAcceptedSerializer,
                description="More than PORTA_IMPORT_SYNC_MAX_ITEMS items: the import runs as a job",
            ),
        },
    )
    def create(self, request):
        """Import a manifest. `merge` creates what is missing and skips what exists; `overwrite`
        also updates what exists with the fields each item states; `dry-run` (the default)
        answers exactly what `merge` would, and changes nothing. Any failing item rolls back the
        whole import: 422, whose error body adds `report` (the per-section report below, with
        each failing item's error). A manifest of more than
        `PORTA_IMPORT_SYNC_MAX_ITEMS` items (default 100) is imported by a job: 202 `{jobId}`; the
        job's result is the same report (a failed job's report is its download)."""
        data = self.validated(ImportRequestSerializer)
        manifest = parse_manifest(data["manifest"])
        importer = services.Importer(
            actor=self.principal.actor,
            authorization=self.principal.authorization,
            scope_organization_id=self.principal.scope_organization_id,
        )
        if manifest.item_count > settings.PORTA_IMPORT_SYNC_MAX_ITEMS:
            services.check_scope(importer, manifest)  # refused now, not in a failed job
            return job_accepted(import_enqueue(importer=importer, mode=data["mode"], manifest=manifest))
        return Response(services.import_manifest(importer=importer, mode=data["mode"], manifest=manifest))
