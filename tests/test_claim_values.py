"""Per-user custom claim values through the admin API: upstream Porta §10 value checks."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory, force_authenticate

from applications.api.claim_views import ClaimViewSet
from applications.models import Application, ClaimDefinition, ClaimValue
from applications.services.claims import value_problem
from audit.models import AuditEntry
from tests.factories import UserFactory
from tests.test_tenancy import scoped_to

UNKNOWN = "0190f0a8-0000-7000-8000-000000000000"


@pytest.fixture
def app(initialized) -> Application:
    return Application.objects.create(name="Shop", slug="shop-app")


@pytest.fixture
def user(initialized):
    return UserFactory()


def claim_of(app: Application, claim_type: str = "string", name: str = "team") -> ClaimDefinition:
    return ClaimDefinition.objects.create(application=app, name=name, claim_type=claim_type)


def value_url(claim: ClaimDefinition, user_id) -> str:
    return f"/api/admin/applications/{claim.application_id}/claims/{claim.id}/users/{user_id}"


VALID = {
    "string": ["sales", ""],
    "number": [3, -2.5, 0],
    "boolean": [True, False],
    "json": [{"a": [1, 2]}, [1, "x"], "text", 7, False],
}
INVALID = {
    "string": [1, True, {"a": 1}, ["x"]],
    "number": ["3", True, False, {"n": 1}, [1]],
    "boolean": ["true", 1, 0, {"b": True}],
    "json": [],
}


@pytest.mark.parametrize(("claim_type", "value"), [(t, v) for t, values in VALID.items() for v in values])
def test_each_claim_type_accepts_its_values(api, app, user, claim_type, value):
    claim = claim_of(app, claim_type)
    response = api.put(value_url(claim, user.id), {"value": value})
    assert response.status_code == 200, response.content
    assert response.json()["value"] == value


@pytest.mark.parametrize(("claim_type", "value"), [(t, v) for t, values in INVALID.items() for v in values])
def test_each_claim_type_rejects_other_values(api, app, user, claim_type, value):
    claim = claim_of(app, claim_type)
    response = api.put(value_url(claim, user.id), {"value": value})
    assert response.status_code == 400


@pytest.mark.parametrize("claim_type", ["string", "number", "boolean", "json"])
def test_null_is_never_a_valid_value_and_the_error_names_the_claim(api, app, user, claim_type):
    claim = claim_of(app, claim_type)
    response = api.put(value_url(claim, user.id), {"value": None})
    assert response.status_code == 400
    assert "team" in response.json()["message"]


def test_a_missing_value_is_refused(api, app, user):
    response = api.put(value_url(claim_of(app), user.id), {})
    assert response.status_code == 400


def test_setting_a_value_twice_replaces_it(api, app, user):
    claim = claim_of(app)
    api.put(value_url(claim, user.id), {"value": "red"})
    api.put(value_url(claim, user.id), {"value": "blue"})
    assert list(ClaimValue.objects.values_list("value", flat=True)) == ["blue"]


def test_setting_a_value_is_audited_as_claim_value_set(api, app, user):
    claim = claim_of(app)
    body = api.put(value_url(claim, user.id), {"value": "red"}).json()
    assert AuditEntry.objects.get(target_id=body["id"]).event_type == "claim.value.set"


def test_a_user_of_any_organization_may_hold_a_value(api, app):
    other_org_user = UserFactory()
    response = api.put(value_url(claim_of(app), other_org_user.id), {"value": "red"})
    assert response.status_code == 200


def test_setting_a_value_for_an_unknown_user_is_not_found(api, app):
    response = api.put(value_url(claim_of(app), UNKNOWN), {"value": "red"})
    assert response.status_code == 404


def test_reading_a_value_returns_it(api, app, user):
    claim = claim_of(app)
    ClaimValue.objects.create(claim=claim, user=user, value="red")
    body = api.get(value_url(claim, user.id)).json()
    assert (body["claimName"], body["value"]) == ("team", "red")


def test_reading_a_value_that_is_not_set_is_not_found(api, app, user):
    response = api.get(value_url(claim_of(app), user.id))
    assert response.status_code == 404
    assert response.json()["message"] == "Claim value not found"


def test_deleting_a_value_removes_it(api, app, user):
    claim = claim_of(app)
    ClaimValue.objects.create(claim=claim, user=user, value="red")
    assert api.delete(value_url(claim, user.id)).status_code == 204
    assert not ClaimValue.objects.exists()


def test_deleting_a_value_is_audited_as_claim_value_deleted(api, app, user):
    claim = claim_of(app)
    row = ClaimValue.objects.create(claim=claim, user=user, value="red")
    api.delete(value_url(claim, user.id))
    assert AuditEntry.objects.get(target_id=str(row.id)).event_type == "claim.value.deleted"


def test_deleting_a_value_that_is_not_set_is_not_found(api, app, user):
    assert api.delete(value_url(claim_of(app), user.id)).status_code == 404


def test_listing_a_users_values_shows_every_claim_of_the_application(api, app, user):
    other = Application.objects.create(name="Other", slug="other-app")
    ClaimValue.objects.create(claim=claim_of(app, name="team"), user=user, value="red")
    ClaimValue.objects.create(claim=claim_of(app, "number", name="level"), user=user, value=3)
    ClaimValue.objects.create(claim=claim_of(other, name="elsewhere"), user=user, value="x")
    body = api.get(f"/api/admin/applications/{app.id}/claims/users/{user.id}").json()
    assert {v["claimName"]: v["value"] for v in body["data"]} == {"level": 3, "team": "red"}


def test_listing_values_of_an_unknown_user_is_not_found(api, app):
    response = api.get(f"/api/admin/applications/{app.id}/claims/users/{UNKNOWN}")
    assert response.status_code == 404


def test_deleting_a_user_deletes_their_values(api, app, user):
    ClaimValue.objects.create(claim=claim_of(app), user=user, value="red")
    user.delete()
    assert not ClaimValue.objects.exists()


def test_a_non_finite_number_is_refused(api, app, user):
    claim = claim_of(app, "number")
    response = api.client.generic(
        "PUT",
        value_url(claim, user.id),
        '{"value": NaN}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )
    assert response.status_code == 400


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_the_number_check_refuses_non_finite_values(value):
    assert value_problem("number", value) is not None


def test_organization_scoped_credentials_cannot_read_claim_values(app, user):
    principal = scoped_to(user.organization)
    claim = claim_of(app)
    ClaimValue.objects.create(claim=claim, user=user, value="red")
    request = APIRequestFactory().get(value_url(claim, user.id))
    force_authenticate(request, user=principal.user, token=principal)
    response = ClaimViewSet.as_view({"get": "user_value"})(
        request, application_id=str(app.id), pk=str(claim.id), user_id=str(user.id)
    )
    assert response.status_code == 403
