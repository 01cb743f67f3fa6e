"""The base viewset's tenancy, exercised with a principal scoped to one organization built by hand.

The rule keys on the principal's ``scope_organization_id``, not on the kind of credential: these
tests pin it without any credential at all (rows of another organization are a 404, global
actions a 403, lists only ever show the caller's organization). Real ``porta_pat_`` keys run the
same rule end to end in tests/test_api_keys.py and tests/test_bola_matrix.py.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction
from rest_framework.test import APIRequestFactory, force_authenticate

from audit import services as audit
from audit.api.views import AuditViewSet
from organizations.api.views import OrganizationViewSet
from organizations.models import Organization
from porta.api.principal import Principal
from porta.core.context import Actor
from rbac.admin_roles import ALL_ADMIN_PERMISSIONS
from rbac.selectors import AdminAuthorization
from tests.factories import OrganizationFactory, UserFactory

factory = APIRequestFactory()


@pytest.fixture
def home(db) -> Organization:
    return OrganizationFactory()


@pytest.fixture
def foreign(db) -> Organization:
    return OrganizationFactory()


def scoped_to(organization: Organization) -> Principal:
    user = UserFactory(organization=organization)
    return Principal(
        user=user,
        organization_id=organization.id,
        is_admin_org_member=True,
        authorization=AdminAuthorization(frozenset({"porta-super-admin"}), ALL_ADMIN_PERMISSIONS),
        credential="api_key",
        scope_organization_id=organization.id,
    )


def call(viewset, actions: dict, principal: Principal, path: str = "/", method: str = "get", **kwargs):
    request = getattr(factory, method)(path, format="json")
    force_authenticate(request, user=principal.user, token=principal)
    return viewset.as_view(actions)(request, **kwargs)


def test_a_scoped_caller_reads_its_own_organization(home):
    response = call(OrganizationViewSet, {"get": "retrieve"}, scoped_to(home), pk=str(home.id))
    assert response.status_code == 200


def test_a_scoped_caller_gets_404_for_another_organization(home, foreign):
    response = call(OrganizationViewSet, {"get": "retrieve"}, scoped_to(home), pk=str(foreign.id))
    assert response.status_code == 404


def test_a_scoped_caller_cannot_change_another_organization(home, foreign):
    response = call(
        OrganizationViewSet, {"post": "suspend"}, scoped_to(home), method="post", pk=str(foreign.id)
    )
    assert response.status_code == 404
    assert Organization.objects.get(pk=foreign.id).status == "active"


def test_a_scoped_caller_is_refused_global_actions(home):
    response = call(OrganizationViewSet, {"get": "list"}, scoped_to(home))
    assert response.status_code == 403


def test_a_scoped_caller_sees_only_its_organizations_audit_entries(home, foreign):

    with transaction.atomic():
        for org in (home, foreign):
            audit.record(event_type="org.tested", actor=Actor.system(), target_type="organization",
                         organization_id=org.id, target_id=org.id)  # fmt: skip
    response = call(AuditViewSet, {"get": "list"}, scoped_to(home), path="/?eventType=org.tested")
    assert response.status_code == 200
    assert {row["organizationId"] for row in response.data["data"]} == {str(home.id)}


def test_an_unknown_id_is_404_for_a_scoped_caller_too(home):
    response = call(OrganizationViewSet, {"get": "retrieve"}, scoped_to(home), pk=str(uuid.uuid4()))
    assert response.status_code == 404
