from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response

from applications.api.claim_serializers import (
    ClaimCreateSerializer,
    ClaimDefinitionSerializer,
    ClaimUpdateSerializer,
    ClaimValueSerializer,
    ClaimValueSetSerializer,
)
from applications.models import Application, ClaimDefinition, ClaimValue
from applications.selectors import claims as claim_selectors
from applications.services import claims as claim_services
from organizations.models import User
from porta.api.schema import collection, list_parameters, unpaginated
from porta.api.viewsets import PathParent, PathRow, PortaViewSet
from porta.core.errors import NotFound

_SORT_FIELDS = {"createdAt": "created_at", "updatedAt": "updated_at", "claimName": "name"}


class ClaimViewSet(PortaViewSet):
    """Custom claims of one application (``/applications/{id}/claims``) and their per-user values."""

    queryset = ClaimDefinition.objects.all()
    parent = PathParent(kwarg="application_id", field="application", not_found="Application not found")
    organization_field = None  # global, like the application it belongs to
    permission_map = {
        "list": "admin:claim:read",
        "create": "admin:claim:create",
        "retrieve": "admin:claim:read",
        "update": "admin:claim:update",
        "destroy": "admin:claim:archive",
        "user_values": "admin:claim:read",
        "user_value": "admin:claim:read",
        "set_user_value": "admin:claim:update",
        "delete_user_value": "admin:claim:update",  # upstream §10: a value is data, not the definition
    }
    sort_fields = _SORT_FIELDS
    output_serializer_class = ClaimDefinitionSerializer
    serializer_class = ClaimDefinitionSerializer
    not_found_message = "Claim not found"
    path_user = PathRow(
        kwarg="user_id", model=User, not_found="User not found", organization_field="organization_id"
    )

    def application(self) -> Application:
        return self.path_parent()

    def user(self) -> User:
        """The user in the path: of any organization, unless the caller is organization-scoped."""
        return self.path_row(self.path_user)

    @extend_schema(parameters=list_parameters(), responses=collection(ClaimDefinitionSerializer))
    def list(self, request, application_id=None):
        return self.list_response()

    @extend_schema(request=ClaimCreateSerializer, responses={201: ClaimDefinitionSerializer})
    def create(self, request, application_id=None):
        application = self.application()
        data = self.validated(ClaimCreateSerializer)
        claim = claim_services.claim_create(actor=self.principal.actor, application=application, **data)
        return self.created_response(claim, f"/api/admin/applications/{application.id}/claims/{claim.id}")

    @extend_schema(responses=ClaimDefinitionSerializer)
    def retrieve(self, request, application_id=None, pk=None):
        return self.detail_response(self.get_object())

    @extend_schema(request=ClaimUpdateSerializer, responses=ClaimDefinitionSerializer)
    def update(self, request, application_id=None, pk=None):
        claim = self.get_object()
        data = self.validated(ClaimUpdateSerializer)
        claim = claim_services.claim_update(
            actor=self.principal.actor, claim=claim, precondition=self.if_match, **data
        )
        return self.detail_response(claim)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, application_id=None, pk=None):
        claim = self.get_object()
        claim_services.claim_delete(actor=self.principal.actor, claim=claim, precondition=self.if_match)
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(operation_id="applications_claims_users_list", responses=unpaginated(ClaimValueSerializer))
    @action(detail=False, methods=["get"], url_path=r"users/(?P<user_id>[^/]+)")
    def user_values(self, request, application_id=None, user_id=None):
        """All values a user holds for the application's claims."""
        application = self.application()
        user = self.user()
        values = claim_selectors.values_of_user(application.id, user.id)
        return Response({"data": [ClaimValueSerializer.represent(v) for v in values]})

    def _value(self, claim: ClaimDefinition, user: User) -> ClaimValue:
        value = ClaimValue.objects.select_related("claim").filter(claim=claim, user=user).first()
        if value is None:
            raise NotFound("Claim value not found")
        return value

    @extend_schema(responses=ClaimValueSerializer)
    @action(detail=True, methods=["get"], url_path=r"users/(?P<user_id>[^/]+)")
    def user_value(self, request, application_id=None, pk=None, user_id=None):
        claim = self.get_object()
        return Response(ClaimValueSerializer.represent(self._value(claim, self.user())))

    @extend_schema(request=ClaimValueSetSerializer, responses=ClaimValueSerializer)
    @user_value.mapping.put
    def set_user_value(self, request, application_id=None, pk=None, user_id=None):
        claim = self.get_object()
        user = self.user()
        data = self.validated(ClaimValueSetSerializer)
        value = claim_services.value_set(
            actor=self.principal.actor, claim=claim, user=user, value=data["value"]
        )
        return Response(ClaimValueSerializer.represent(value))

    @extend_schema(request=None, responses={204: None})
    @user_value.mapping.delete
    def delete_user_value(self, request, application_id=None, pk=None, user_id=None):
        claim = self.get_object()
        claim_services.value_delete(actor=self.principal.actor, value=self._value(claim, self.user()))
        return Response(status=http.HTTP_204_NO_CONTENT)
