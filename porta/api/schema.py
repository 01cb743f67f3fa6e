"""OpenAPI generation: each operation names its permission and documents the error shape."""

from __future__ import annotations

import functools

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from porta.api.permissions import required_permission
from porta.core.errors import ERROR_NAMES

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

#: The errors any admin operation can answer (contract §1 "Errors"): a bad query or path value,
#: no or a bad credential, a missing permission or another organization's row, an unknown or
#: malformed id, an ``Accept`` nothing can satisfy, and a database or dependency that is down.
_ERRORS_EVERY = (400, 401, 403, 404, 406, 503)
#: What a write can answer besides: a duplicate or an illegal transition, a failed ``If-Match``,
#: a body over the limit or of another media type, a reference to an inactive parent, and the
#: write rate limit.
_ERRORS_WRITE = (409, 412, 413, 415, 422, 429)
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class PortaAutoSchema(AutoSchema):
    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and not getattr(self.view, "authentication_classes", True):
            operation["security"] = []  # a public route (self-revocation): no credential at all
        return operation

    def _is_list_view(self, serializer=None) -> bool:
        # Lists declare their envelope with collection(): a response body is never wrapped in a
        # bare array. (Called without a serializer it only names the operation: keep "list".)
        return False if serializer is not None else super()._is_list_view()

    def get_description(self) -> str:
        description = super().get_description() or ""
        permission = required_permission(self.view) if hasattr(self.view, "permission_map") else None
        if permission:
            description = f"{description}\n\nRequires permission `{permission}`.".strip()
        return description

    def _get_response_bodies(self, direction="response"):
        """Every status the operation can answer is declared, the errors with the one error shape:
        they are added here once, for every operation, rather than by each view."""
        responses = super()._get_response_bodies(direction)
        if not hasattr(self.view, "permission_map"):
            return responses
        if self.method == "GET" and getattr(self.view, "action", None) == "retrieve":
            # Single reads send an ETag and answer If-None-Match with a bodiless 304.
            responses.setdefault("304", {"description": "Not modified (If-None-Match matched the ETag)"})
        write = self.method in _WRITE_METHODS
        for code in sorted(_ERRORS_EVERY + (_ERRORS_WRITE if write else ())):
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(ErrorSerializer, str(code))
                responses[str(code)]["description"] = (
                    "ValidationError" if code == 400 and write else ERROR_NAMES[code]
                )
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


_Pagination = inline_serializer(
    name="Pagination",
    fields={
        "total": serializers.IntegerField(required=False, help_text="Page mode"),
        "page": serializers.IntegerField(required=False, help_text="Page mode"),
        "pageSize": serializers.IntegerField(required=False, help_text="Page mode"),
        "totalPages": serializers.IntegerField(required=False, help_text="Page mode"),
        "nextCursor": serializers.CharField(required=False, allow_null=True, help_text="Cursor mode"),
        "hasMore": serializers.BooleanField(required=False, help_text="Cursor mode"),
        "limit": serializers.IntegerField(required=False, help_text="Cursor mode"),
    },
)


@functools.cache
def collection(item_serializer) -> object:
    """The collection envelope ``{"data": [...], "pagination": {...}}`` of ``item_serializer``."""
    return inline_serializer(
        name=f"{item_serializer.__name__.removesuffix('Serializer')}List",
        fields={"data": item_serializer(many=True), "pagination": _Pagination},
    )


def finish_schema(result, generator, request, public):
    """Routes accept an optional trailing slash: document the canonical form. Request bodies
    refuse unknown fields: say so with additionalProperties false. The admin metadata, a plain
    Django view that DRF does not see, is documented too."""
    result["paths"] = {path.rstrip("/") or "/": item for path, item in result["paths"].items()}
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name, component in schemas.items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    schemas["AdminMetadata"] = _ADMIN_METADATA
    result["paths"]["/api/admin/metadata"] = {"get": _ADMIN_METADATA_OPERATION}
    return dict(result, paths=dict(sorted(result["paths"].items())))


_ADMIN_METADATA_FIELDS = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "end_session_endpoint",
    "jwks_uri",
    "orgSlug",
    "clientId",
)
_ADMIN_METADATA = {
    "type": "object",
    "properties": {name: {"type": "string"} for name in _ADMIN_METADATA_FIELDS},
    "required": list(_ADMIN_METADATA_FIELDS),
}
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_ADMIN_METADATA_OPERATION = {
    "operationId": "metadata_retrieve",
    "summary": "Where a CLI or GUI finds the admin issuer",
    "description": "The admin issuer, its endpoints and the CLI's client id. No authentication.",
    "tags": ["metadata"],
    "security": [],
    "responses": {
        "200": {
            "description": "",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AdminMetadata"}}},
        },
        "503": {"description": "ServiceUnavailable (porta_init has not run)", "content": _ERROR_CONTENT},
    },
}


@functools.cache
def unpaginated(item_serializer) -> object:
    """The envelope ``{"data": [...]}`` of a short list that is never paginated."""
    return inline_serializer(
        name=f"{item_serializer.__name__.removesuffix('Serializer')}Set",
        fields={"data": item_serializer(many=True)},
    )
