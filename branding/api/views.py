from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response

from branding import selectors, services
from branding.api.serializers import (
    BrandingAssetListSerializer,
    BrandingAssetSerializer,
    BrandingAssetUploadSerializer,
)
from branding.models import BrandingAssetType
from organizations import selectors as organization_selectors
from organizations import services as organization_services
from organizations.api.serializers import BrandingSerializer, OrganizationSerializer
from organizations.models import Organization
from porta.api.viewsets import PortaViewSet
from porta.core.errors import NotFound

#: Served images: cached by the browser for an hour (revalidated by ETag after), never sniffed,
#: and never run as a document (an SVG opened directly cannot script or load anything).
_ASSET_HEADERS = {
    "Cache-Control": "private, max-age=3600",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
}
_ASSET_TYPE = OpenApiParameter(
    "asset_type", OpenApiTypes.STR, OpenApiParameter.PATH, enum=BrandingAssetType.values,
    description="`logo` or `favicon`; any other value is 404",
)  # fmt: skip


class BrandingViewSet(PortaViewSet):
    """An organization's branding: the URL and colour settings (PUT …/branding) and the uploaded
    logo and favicon (…/branding/{type})."""

    queryset = Organization.objects.all()
    organization_field = "id"
    permission_map = {
        "branding_assets": "admin:org:read",
        "branding": "admin:org:update",
        "branding_asset": "admin:org:read",
        "branding_asset_put": "admin:org:update",
        "branding_asset_delete": "admin:org:update",
    }
    output_serializer_class = OrganizationSerializer
    serializer_class = OrganizationSerializer
    not_found_message = "Organization not found"

    def scoped_queryset(self) -> QuerySet:
        return organization_selectors.organizations()

    def perform_content_negotiation(self, request, force=False):
        # A browser's <img> asks for image/*: the asset route answers its stored bytes itself
        # (and errors as JSON), so it never refuses an Accept header with 406.
        return super().perform_content_negotiation(request, force=force or self.action == "branding_asset")

    def _asset_type(self, asset_type: str) -> str:
        if asset_type not in BrandingAssetType.values:
            raise NotFound(f"Unknown branding asset type '{asset_type}': use logo or favicon")
        return asset_type

    def _asset(self, organization: Organization, asset_type: str, queryset: QuerySet):
        asset = queryset.filter(organization=organization, asset_type=asset_type).first()
        if asset is None:
            raise NotFound(f"No {asset_type} asset found")
        return asset

    @extend_schema(
        operation_id="organizations_branding_list", request=None, responses=BrandingAssetListSerializer
    )
    @action(detail=True, methods=["get"], url_path="branding")
    def branding_assets(self, request, pk=None):
        """The organization's uploaded assets (without their bytes)."""
        organization = self.get_object()
        assets = selectors.branding_assets().filter(organization=organization)
        return Response({"data": BrandingAssetSerializer.represent_many(assets)})

    @extend_schema(
        operation_id="organizations_branding_update",
        request=BrandingSerializer,
        responses=OrganizationSerializer,
    )
    @branding_assets.mapping.put
    def branding(self, request, pk=None):
        """Set the branding URLs, colour, company name and custom CSS (fields left out are kept)."""
        organization = self.get_object()
        data = self.validated(BrandingSerializer)
        organization = organization_services.organization_update_branding(
            actor=self.principal.actor,
            organization=organization,
            branding=data,
            precondition=self.if_match,
        )
        return self.detail_response(organization)

    @extend_schema(
        operation_id="organizations_branding_asset_retrieve",
        request=None,
        parameters=[_ASSET_TYPE],
        responses={
            (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The stored bytes"),
            304: OpenApiResponse(description="Not modified (If-None-Match matched the ETag)"),
        },
    )
    @action(detail=True, methods=["get"], url_path=r"branding/(?P<asset_type>[^/]+)")
    def branding_asset(self, request, pk=None, asset_type=None):
        """The asset's bytes with its content type, an ETag and cache headers."""
        organization = self.get_object()
        asset = self._asset(organization, self._asset_type(asset_type), selectors.branding_asset_with_data())
        tag = f'"{asset.sha256}"'
        if tag in [t.strip() for t in request.META.get("HTTP_IF_NONE_MATCH", "").split(",")]:
            return HttpResponse(status=http.HTTP_304_NOT_MODIFIED, headers={"ETag": tag, **_ASSET_HEADERS})
        return HttpResponse(
            bytes(asset.data), content_type=asset.content_type, headers={"ETag": tag, **_ASSET_HEADERS}
        )

    @extend_schema(
        operation_id="organizations_branding_asset_update",
        request=BrandingAssetUploadSerializer,
        parameters=[_ASSET_TYPE],
        responses={200: BrandingAssetSerializer, 201: BrandingAssetSerializer},
    )
    @branding_asset.mapping.put
    def branding_asset_put(self, request, pk=None, asset_type=None):
        """Upload (or replace) the asset: checked by its bytes against the allowed types (415),
        the size limit (413: logo 1 MiB, favicon 512 KiB) and, for SVG, refused unless inert (400).
        201 when created, 200 when replaced."""
        organization = self.get_object()
        asset_type = self._asset_type(asset_type)
        data = self.validated(BrandingAssetUploadSerializer)
        asset, created = services.branding_asset_put(
            actor=self.principal.actor,
            organization=organization,
            asset_type=asset_type,
            data=data["data"],
            content_type=data.get("contentType"),
        )
        body = BrandingAssetSerializer.represent(asset)
        if created:
            location = f"/api/admin/organizations/{organization.id}/branding/{asset_type}"
            return Response(body, status=http.HTTP_201_CREATED, headers={"Location": location})
        return Response(body)

    @extend_schema(
        operation_id="organizations_branding_asset_destroy",
        request=None,
        parameters=[_ASSET_TYPE],
        responses={204: None},
    )
    @branding_asset.mapping.delete
    def branding_asset_delete(self, request, pk=None, asset_type=None):
        """Remove the asset (404 when there is none)."""
        organization = self.get_object()
        asset = self._asset(organization, self._asset_type(asset_type), selectors.branding_assets())
        services.branding_asset_delete(actor=self.principal.actor, asset=asset)
        return Response(status=http.HTTP_204_NO_CONTENT)
