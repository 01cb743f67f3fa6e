"""Users under a principal scoped to one organization: foreign organizations and their users
are 404s, on the nested and the standalone routes."""

from __future__ import annotations

import pytest

from organizations.api.user_views import OrganizationUserViewSet, UserViewSet
from organizations.models import Organization
from tests.factories import OrganizationFactory, UserFactory
from tests.test_tenancy import call, scoped_to


@pytest.fixture
def home(db) -> Organization:
    return OrganizationFactory()


@pytest.fixture
def foreign(db) -> Organization:
    return OrganizationFactory()


def test_a_scoped_caller_lists_the_users_of_its_organization(home):
    response = call(OrganizationUserViewSet, {"get": "list"}, scoped_to(home), organization_id=str(home.id))
    assert response.status_code == 200


def test_a_scoped_caller_gets_404_for_the_users_of_another_organization(home, foreign):
    response = call(
        OrganizationUserViewSet, {"get": "list"}, scoped_to(home), organization_id=str(foreign.id)
    )
    assert response.status_code == 404


def test_a_scoped_caller_gets_404_for_a_foreign_user_on_the_standalone_route(home, foreign):
    stranger = UserFactory(organization=foreign)
    response = call(UserViewSet, {"get": "retrieve"}, scoped_to(home), pk=str(stranger.id))
    assert response.status_code == 404


def test_a_scoped_caller_gets_404_for_a_foreign_user_under_its_own_path(home, foreign):
    stranger = UserFactory(organization=foreign)
    response = call(
        OrganizationUserViewSet, {"get": "retrieve"}, scoped_to(home),
        organization_id=str(home.id), pk=str(stranger.id),
    )  # fmt: skip
    assert response.status_code == 404
