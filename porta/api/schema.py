"""OpenAPI generation: each operation names its permission and documents the error shape."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from porta.api.permissions import required_permission

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": serializers.CharField(),
        "message": serializers.CharField(),
        "statusCode": serializers.IntegerField(),
        "requestId": serializers.CharField(),
        "details": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False
        ),
    },
)

_ERRORS_READ = {"401": "Unauthorized", "403": "Forbidden", "404": "NotFound"}
_ERRORS_WRITE = {
    "400": "ValidationError",
    "409": "Conflict",
    "412": "PreconditionFailed",
    "413": "PayloadTooLarge",
    "415": "UnsupportedMediaType",
    "429": "TooManyRequests",
}


class PortaAutoSchema(AutoSchema):
    def get_description(self) -> str:
        description = super().get_description() or ""
        permission = required_permission(self.view) if hasattr(self.view, "permission_map") else None
        if permission:
            description = f"{description}\n\nRequires permission `{permission}`.".strip()
        return description

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if not hasattr(self.view, "permission_map"):
            return responses
        errors = dict(_ERRORS_READ)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            errors.update(_ERRORS_WRITE)
        else:
            errors["400"] = "BadRequest"
        for code, name in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code)
                responses[code]["description"] = name
        return responses


def list_parameters(filterset_class=None, *, cursor: bool = True) -> list[OpenApiParameter]:
    """Query parameters every list accepts, plus the resource's filters."""
    params = [
        OpenApiParameter("page", OpenApiTypes.INT, description="Page number, from 1 (page mode)"),
        OpenApiParameter("pageSize", OpenApiTypes.INT, description="Rows per page, 1-100 (default 20)"),
        OpenApiParameter("sort", OpenApiTypes.STR, description="Field to sort by (whitelisted)"),
        OpenApiParameter("order", OpenApiTypes.STR, enum=["asc", "desc"]),
    ]
    if cursor:
        params += [
            OpenApiParameter(
                "cursor", OpenApiTypes.STR, description="Opaque cursor from pagination.nextCursor"
            ),
            OpenApiParameter(
                "limit", OpenApiTypes.INT, description="Rows per cursor page, 1-1000 (default 100)"
            ),
        ]
    if filterset_class is not None:
        for name in filterset_class.base_filters:
            params.append(OpenApiParameter(name, OpenApiTypes.STR))
    return params


def strip_trailing_slashes(result, generator, request, public):
    """Routes accept an optional trailing slash; the schema documents the canonical form."""
    result["paths"] = {path.rstrip("/") or "/": item for path, item in result["paths"].items()}
    return result
