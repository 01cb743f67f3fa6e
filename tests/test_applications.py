"""Applications through the admin API: the contract's §3 row and upstream Porta §6."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory, force_authenticate

from applications.api.views import ApplicationViewSet
from applications.models import Application
from audit.models import AuditEntry
from rbac.admin_roles import ADMIN_APP_SLUG
from tests.factories import OrganizationFactory
from tests.test_tenancy import scoped_to

APPS = "/api/admin/applications"


def create(api, **body):
    response = api.post(APPS, {"name": "Shop Front", **body})
    assert response.status_code == 201, response.content
    return response.json()


def make_app(n: int = 0, **fields) -> Application:
    return Application.objects.create(**{"name": f"App {n}", "slug": f"app-number-{n}", **fields})


def audit_entries(app_id) -> list[str]:
    return list(AuditEntry.objects.filter(target_id=str(app_id)).values_list("event_type", flat=True))


# -- create ---------------------------------------------------------------------------------------


def test_creating_an_application_returns_201_with_location_and_the_bare_object(api):
    response = api.post(APPS, {"name": "Shop Front", "description": "The web shop"})
    body = response.json()
    assert response.status_code == 201
    assert response["Location"] == f"{APPS}/{body['id']}"
    assert set(body) == {"id", "name", "slug", "description", "status", "createdAt", "updatedAt"}
    assert (body["name"], body["description"], body["status"]) == ("Shop Front", "The web shop", "active")


def test_creating_an_application_is_audited_once_with_camel_case_changes(api):
    body = create(api)
    entry = AuditEntry.objects.get(target_id=body["id"])
    assert entry.event_type == "app.created"
    assert entry.target_type == "application"
    assert entry.organization_id is None
    assert entry.metadata["changes"]["slug"] == {"before": None, "after": "shop-front"}


def test_a_slug_is_generated_from_the_name(api):
    assert create(api, name="Ünïcode & Friends, App!")["slug"] == "unicode-friends-app"


def test_a_generated_slug_that_is_taken_gets_a_numeric_suffix(api):
    create(api, name="Shop Front")
    create(api, name="Shop Front")
    assert create(api, name="Shop Front")["slug"] == "shop-front-3"


def test_a_generated_slug_never_is_a_reserved_word(api):
    assert create(api, name="System")["slug"] == "system-app"


def test_an_explicit_slug_that_is_taken_is_a_conflict_and_not_audited(api):
    create(api, slug="shop")
    entries_before = AuditEntry.objects.count()
    response = api.post(APPS, {"name": "Other", "slug": "shop"})
    assert response.status_code == 409
    assert response.json()["error"] == "Conflict"
    assert AuditEntry.objects.count() == entries_before


def test_the_porta_admin_slug_is_taken(api):
    assert api.post(APPS, {"name": "Impostor", "slug": ADMIN_APP_SLUG}).status_code == 409


@pytest.mark.parametrize("slug", ["admin", "api", "system", "internal", "default", "health", "status"])
def test_a_reserved_slug_is_refused(api, slug):
    response = api.post(APPS, {"name": "Shop", "slug": slug})
    assert response.status_code == 400
    assert "reserved" in response.json()["details"]["slug"][0]


@pytest.mark.parametrize("slug", ["ab", "-shop", "shop-", "Shop", "sh op", "a" * 101])
def test_a_malformed_slug_is_a_validation_error(api, slug):
    response = api.post(APPS, {"name": "Shop", "slug": slug})
    assert response.status_code == 400
    assert "slug" in response.json()["details"]


@pytest.mark.parametrize(
    "body",
    [{"name": ""}, {"name": "a" * 256}, {"name": "Shop", "description": "d" * 2001}, {"name": 12}],
    ids=["empty-name", "long-name", "long-description", "number-for-name"],
)
def test_an_invalid_body_is_refused_and_creates_nothing(api, body):
    before = Application.objects.count()
    assert api.post(APPS, body).status_code == 400
    assert Application.objects.count() == before


def test_an_unknown_body_field_is_refused_naming_it(api):
    response = api.post(APPS, {"name": "Shop", "colour": "red"})
    assert response.status_code == 400
    assert "colour" in response.json()["details"]


# -- read -----------------------------------------------------------------------------------------


def test_an_application_is_found_by_id_and_by_slug(api):
    app = create(api, slug="shop")
    assert api.get(f"{APPS}/{app['id']}").json()["id"] == app["id"]
    assert api.get(f"{APPS}/shop").json()["id"] == app["id"]


def test_an_unknown_application_is_404(api):
    response = api.get(f"{APPS}/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["message"] == "Application not found"


def test_a_single_application_carries_an_etag(api):
    app = create(api)
    assert api.get(f"{APPS}/{app['id']}")["ETag"].startswith('"')


def test_list_filters_by_status(api):
    make_app(1)
    inactive = make_app(2, status="inactive")
    body = api.get(APPS, {"status": "inactive"}).json()
    assert [a["id"] for a in body["data"]] == [str(inactive.id)]


def test_list_refuses_an_unknown_status(api):
    assert api.get(APPS, {"status": "deleted"}).status_code == 400


def test_list_searches_name_and_slug(api):
    create(api, name="Globex Portal", slug="globex")
    create(api, name="Initech", slug="initech-hr")
    assert [a["slug"] for a in api.get(APPS, {"search": "glob"}).json()["data"]] == ["globex"]
    assert [a["slug"] for a in api.get(APPS, {"search": "-hr"}).json()["data"]] == ["initech-hr"]


@pytest.mark.parametrize("sort", ["name", "slug"])
def test_list_sorts_by_a_whitelisted_field(api, sort):
    for name in ("Charlie", "Alpha", "Bravo"):
        create(api, name=name)
    values = [a[sort] for a in api.get(APPS, {"sort": sort, "order": "asc"}).json()["data"]]
    assert values == sorted(values)


def test_list_refuses_an_unknown_sort_field(api):
    assert api.get(APPS, {"sort": "description"}).status_code == 400


def test_list_pages_report_the_total(api):
    for n in range(3):
        make_app(n)
    body = api.get(APPS, {"pageSize": 2}).json()
    assert len(body["data"]) == 2
    assert body["pagination"]["total"] == Application.objects.count()


def test_list_pages_by_cursor(api):
    for n in range(3):
        make_app(n)
    body = api.get(APPS, {"limit": 2}).json()
    assert len(body["data"]) == 2
    assert body["pagination"]["hasMore"] is True
    rest = api.get(APPS, {"limit": 2, "cursor": body["pagination"]["nextCursor"]}).json()
    assert {a["id"] for a in body["data"]}.isdisjoint(a["id"] for a in rest["data"])


def test_the_list_total_follows_a_create_at_once(api):
    before = api.get(APPS).json()["pagination"]["total"]
    create(api)
    assert api.get(APPS).json()["pagination"]["total"] == before + 1


def test_list_runs_a_constant_number_of_queries(api):
    for n in range(30):
        make_app(n)
    api.get(APPS)  # warm caches of the request path
    with CaptureQueriesContext(connection) as small:
        assert api.get(APPS, {"pageSize": 5}).status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert api.get(APPS, {"pageSize": 30}).status_code == 200
    assert len(small) == len(large)


# -- update ---------------------------------------------------------------------------------------


def test_put_changes_name_and_description_and_audits_the_difference_once(api):
    app = create(api)
    response = api.put(f"{APPS}/{app['id']}", {"name": "Shop Renamed", "description": "New"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["description"]) == ("Shop Renamed", "New")
    entry = AuditEntry.objects.get(event_type="app.updated", target_id=app["id"])
    assert entry.metadata["changes"] == {
        "description": {"before": None, "after": "New"},
        "name": {"before": "Shop Front", "after": "Shop Renamed"},
    }


def test_put_clears_the_description_with_null(api):
    app = create(api, description="Old")
    assert api.put(f"{APPS}/{app['id']}", {"description": None}).json()["description"] is None


def test_put_refuses_to_change_the_slug_and_audits_nothing(api):
    app = create(api, slug="shop")
    response = api.put(f"{APPS}/{app['id']}", {"slug": "other"})
    assert response.status_code == 400
    assert Application.objects.get(pk=app["id"]).slug == "shop"
    assert audit_entries(app["id"]) == ["app.created"]


def test_put_accepts_the_unchanged_slug_of_a_round_trip(api):
    app = create(api, slug="shop")
    response = api.put(f"{APPS}/{app['id']}", {**app, "name": "Shop 2"})
    assert response.status_code == 200
    assert response.json()["name"] == "Shop 2"


def test_put_with_a_stale_if_match_is_412_and_changes_nothing(api):
    app = create(api)
    etag = api.get(f"{APPS}/{app['id']}")["ETag"]
    api.put(f"{APPS}/{app['id']}", {"name": "Changed once"})
    response = api.put(f"{APPS}/{app['id']}", {"name": "Changed twice"}, headers={"If-Match": etag})
    assert response.status_code == 412
    assert Application.objects.get(pk=app["id"]).name == "Changed once"


def test_put_with_the_current_if_match_succeeds(api):
    app = create(api)
    etag = api.get(f"{APPS}/{app['id']}")["ETag"]
    response = api.put(f"{APPS}/{app['id']}", {"name": "Changed"}, headers={"If-Match": etag})
    assert response.status_code == 200


# -- lifecycle ------------------------------------------------------------------------------------

LEGAL = [
    ("active", "archive", "archived", "app.archived"),
    ("inactive", "archive", "archived", "app.archived"),
    ("inactive", "activate", "active", "app.activated"),
    ("active", "deactivate", "inactive", "app.deactivated"),
]
ILLEGAL = [
    ("archived", "archive"),
    ("active", "activate"),
    ("archived", "activate"),
    ("inactive", "deactivate"),
    ("archived", "deactivate"),
]


@pytest.mark.parametrize(("start", "action", "end", "event"), LEGAL)
def test_each_legal_transition_answers_200_with_the_updated_application_and_is_audited_once(
    api, start, action, end, event
):
    app = make_app(status=start)
    response = api.post(f"{APPS}/{app.id}/{action}")
    assert response.status_code == 200
    assert response.json()["status"] == end
    entry = AuditEntry.objects.get(target_id=str(app.id))
    assert entry.event_type == event
    assert entry.metadata["changes"]["status"] == {"before": start, "after": end}


@pytest.mark.parametrize(("start", "action"), ILLEGAL)
def test_each_illegal_transition_is_a_conflict_that_changes_nothing(api, start, action):
    app = make_app(status=start)
    response = api.post(f"{APPS}/{app.id}/{action}")
    assert response.status_code == 409
    assert response.json()["message"] == f"Cannot {action} application from status '{start}'"
    assert Application.objects.get(pk=app.id).status == start
    assert audit_entries(app.id) == []


@pytest.mark.parametrize("action", ["archive", "deactivate"])
def test_the_porta_admin_application_cannot_be_taken_out_of_service(api, action):
    admin_app = Application.objects.get(slug=ADMIN_APP_SLUG)
    response = api.post(f"{APPS}/{admin_app.id}/{action}")
    assert response.status_code == 403
    assert f"{action}d" in response.json()["message"]
    assert Application.objects.get(pk=admin_app.id).status == "active"


def test_a_transition_with_a_stale_if_match_is_412_and_changes_nothing(api):
    app = make_app()
    etag = api.get(f"{APPS}/{app.id}")["ETag"]
    Application.objects.filter(pk=app.id).update(name="Changed elsewhere")
    response = api.post(f"{APPS}/{app.id}/deactivate", headers={"If-Match": etag})
    assert response.status_code == 412
    assert Application.objects.get(pk=app.id).status == "active"


def test_history_lists_the_applications_audit_entries_newest_first(api):
    app = create(api)
    api.post(f"{APPS}/{app['id']}/deactivate")
    api.post(f"{APPS}/{app['id']}/activate")
    events = [e["eventType"] for e in api.get(f"{APPS}/{app['id']}/history").json()["data"]]
    assert events == ["app.activated", "app.deactivated", "app.created"]


def test_history_of_an_unknown_application_is_404(api):
    assert api.get(f"{APPS}/{uuid.uuid4()}/history").status_code == 404


# -- tenancy --------------------------------------------------------------------------------------


def test_organization_scoped_credentials_cannot_use_applications(initialized):
    principal = scoped_to(OrganizationFactory())
    request = APIRequestFactory().get(APPS)
    force_authenticate(request, user=principal.user, token=principal)
    response = ApplicationViewSet.as_view({"get": "list"})(request)
    assert response.status_code == 403
