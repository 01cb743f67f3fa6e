"""``/api/admin/sessions`` and ``/api/admin/users/{userId}/sessions``: login sessions.

Choices where the contract is silent:

* ``DELETE /sessions/{id}`` is idempotent: a session already revoked answers 204 again and
  nothing changes (as Ory's disableSession). An expired session can still be revoked (its
  refresh tokens are spent).
* ``PATCH /sessions/{id}/extend`` answers 200 with the session, as every other state action
  here does (contract §1.1), where current Ory answers 204. It needs ``admin:session:revoke``:
  the catalogue has no ``session:update``, and extending is the other write on a session.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response

from oidc import session_selectors as selectors
from oidc import session_services as services
from oidc.api.filtersets import SessionFilterSet
from oidc.api.serializers import EmptyBodySerializer, RevokedCountSerializer, SessionSerializer
from oidc.models import Session
from organizations.models import User
from porta.api.schema import collection, list_parameters
from porta.api.viewsets import PathRow, PortaViewSet


class SessionViewSet(PortaViewSet):
    """Login sessions, newest first. Credentials scoped to one organization see only its sessions."""

    queryset = Session.objects.all()
    organization_field = "organization_id"
    permission_map = {
        "list": "admin:session:read",
        "retrieve": "admin:session:read",
        "destroy": "admin:session:revoke",
        "extend": "admin:session:revoke",
    }
    sort_fields = {"createdAt": "created_at", "lastActivityAt": "last_activity_at", "expiresAt": "expires_at"}
    filterset_class = SessionFilterSet
    output_serializer_class = SessionSerializer
    serializer_class = SessionSerializer
    not_found_message = "Session not found"

    def scoped_queryset(self) -> QuerySet:
        return selectors.sessions()

    @extend_schema(parameters=list_parameters(SessionFilterSet), responses=collection(SessionSerializer))
    def list(self, request):
        """Sessions, newest first; filters `userId`, `organizationId`, `clientId` (the client's
        UUID), `activeOnly` (`true`|`false`); page or cursor mode."""
        return self.list_response()

    def retrieve(self, request, pk=None):
        """One session."""
        return self.detail_response(self.get_object())

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Revoke a session: its refresh tokens stop working and its access tokens fail on the
        next request. Revoking a revoked session answers 204 again and changes nothing."""
        session = self.get_object()
        services.session_revoke(actor=self.principal.actor, session=session, precondition=self.if_match)
        return Response(status=http.HTTP_204_NO_CONTENT)

    @extend_schema(request=EmptyBodySerializer, responses=SessionSerializer)
    @action(detail=True, methods=["patch"])
    def extend(self, request, pk=None):
        """Extend a session (Ory extendSession): it now expires `PORTA_SESSION_LIFESPAN` from
        now. A revoked or expired session → 409. Answers 200 with the session."""
        session = self.get_object()
        self.validated(EmptyBodySerializer)
        session = services.session_extend(
            actor=self.principal.actor, session=session, precondition=self.if_match
        )
        return self.detail_response(session)


class UserSessionViewSet(PortaViewSet):
    """``DELETE /users/{userId}/sessions``: revoke every active session of a user. The user must be
    within the caller's scope (else 404)."""

    queryset = User.objects.all()
    organization_field = "organization_id"
    permission_map = {"revoke_all": "admin:session:revoke"}
    serializer_class = RevokedCountSerializer
    not_found_message = "User not found"
    path_user = PathRow(
        kwarg="user_id", model=User, not_found="User not found", organization_field="organization_id"
    )

    def _user(self) -> User:
        return self.path_row(self.path_user)

    @extend_schema(request=None, responses={200: RevokedCountSerializer}, tags=["sessions"])
    @action(detail=False, methods=["delete"], url_path="sessions")
    def revoke_all(self, request, **kwargs: Any):
        """Revoke every active session of the user; `revoked` counts the sessions this call
        revoked (already revoked or expired ones are not counted)."""
        revoked = services.user_sessions_revoke(actor=self.principal.actor, user=self._user())
        return Response({"revoked": revoked})
