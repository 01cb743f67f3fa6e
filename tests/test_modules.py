"""Modules of an application through the admin API (upstream Porta §6)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory, force_authenticate

from applications.api.views import ModuleViewSet
from applications.models import Application, Module
from audit.models import AuditEntry
from tests.factories import OrganizationFactory
from tests.test_tenancy import scoped_to

APPS = "/api/admin/applications"


@pytest.fixture
def app(initialized) -> Application:
    return Application.objects.create(name="Shop", slug="shop")


@pytest.fixture
def other_app(initialized) -> Application:
    return Application.objects.create(name="Other", slug="other-app")


def modules_url(application: Application) -> str:
    return f"{APPS}/{application.id}/modules"


def create(api, application: Application, **body) -> dict:
    response = api.post(modules_url(application), {"name": "Billing", **body})
    assert response.status_code == 201, response.content
    return response.json()


def make_module(application: Application, n: int = 0, **fields) -> Module:
    return Module.objects.create(
        **{"application": application, "name": f"Module {n}", "slug": f"module-{n}", **fields}
    )


def audit_entries(module_id) -> list[str]:
    return list(AuditEntry.objects.filter(target_id=str(module_id)).values_list("event_type", flat=True))


# -- create ---------------------------------------------------------------------------------------


def test_creating_a_module_returns_201_with_location_and_the_bare_object(api, app):
    response = api.post(modules_url(app), {"name": "Billing", "description": "Invoices"})
    body = response.json()
    assert response.status_code == 201
    assert response["Location"] == f"{modules_url(app)}/{body['id']}"
    assert body["applicationId"] == str(app.id)
    assert (body["name"], body["slug"], body["description"], body["status"]) == (
        "Billing",
        "billing",
        "Invoices",
        "active",
    )


def test_creating_a_module_is_audited_once_without_an_organization(api, app):
    body = create(api, app)
    entry = AuditEntry.objects.get(target_id=body["id"])
    assert entry.event_type == "app.module.created"
    assert entry.target_type == "module"
    assert entry.organization_id is None
    assert entry.metadata["changes"]["name"] == {"before": None, "after": "Billing"}


def test_a_generated_module_slug_that_is_taken_gets_a_numeric_suffix(api, app):
    create(api, app)
    assert create(api, app)["slug"] == "billing-2"


def test_an_explicit_module_slug_taken_in_the_same_application_is_a_conflict(api, app):
    create(api, app, slug="billing")
    entries_before = AuditEntry.objects.count()
    response = api.post(modules_url(app), {"name": "Other", "slug": "billing"})
    assert response.status_code == 409
    assert AuditEntry.objects.count() == entries_before


def test_the_same_module_slug_is_free_in_another_application(api, app, other_app):
    create(api, app, slug="billing")
    assert create(api, other_app, slug="billing")["slug"] == "billing"


def test_a_malformed_module_slug_is_a_validation_error(api, app):
    response = api.post(modules_url(app), {"name": "Billing", "slug": "Bad Slug"})
    assert response.status_code == 400
    assert "slug" in response.json()["details"]


def test_creating_a_module_for_an_unknown_application_is_404(api, initialized):
    response = api.post(f"{APPS}/{uuid.uuid4()}/modules", {"name": "Billing"})
    assert response.status_code == 404
    assert response.json()["message"] == "Application not found"


# -- list -----------------------------------------------------------------------------------------


def test_the_list_shows_only_the_applications_modules(api, app, other_app):
    mine = make_module(app, 1)
    make_module(other_app, 2)
    body = api.get(modules_url(app)).json()
    assert [m["id"] for m in body["data"]] == [str(mine.id)]
    assert body["pagination"]["total"] == 1


def test_the_list_pages_by_cursor(api, app):
    for n in range(3):
        make_module(app, n)
    body = api.get(modules_url(app), {"limit": 2}).json()
    assert len(body["data"]) == 2
    assert body["pagination"]["hasMore"] is True


def test_the_list_filters_by_status(api, app):
    make_module(app, 1)
    inactive = make_module(app, 2, status="inactive")
    body = api.get(modules_url(app), {"status": "inactive"}).json()
    assert [m["id"] for m in body["data"]] == [str(inactive.id)]


def test_the_list_of_an_unknown_application_is_404(api, initialized):
    response = api.get(f"{APPS}/{uuid.uuid4()}/modules")
    assert response.status_code == 404
    assert response.json()["message"] == "Application not found"


# -- read and update ------------------------------------------------------------------------------


def test_a_module_is_read_with_an_etag(api, app):
    module = make_module(app)
    response = api.get(f"{modules_url(app)}/{module.id}")
    assert response.status_code == 200
    assert response.json()["id"] == str(module.id)
    assert response["ETag"]


def test_a_module_of_another_application_is_404_under_this_applications_path(api, app, other_app):
    foreign = make_module(other_app)
    response = api.put(f"{modules_url(app)}/{foreign.id}", {"name": "Hijacked"})
    assert response.status_code == 404
    assert response.json()["message"] == "Module not found"
    assert Module.objects.get(pk=foreign.id).name == "Module 0"


def test_put_changes_name_and_description_and_is_audited_once(api, app):
    module = make_module(app)
    response = api.put(f"{modules_url(app)}/{module.id}", {"name": "Invoicing", "description": "Bills"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["description"]) == ("Invoicing", "Bills")
    assert audit_entries(module.id) == ["app.module.updated"]
    entry = AuditEntry.objects.get(target_id=str(module.id))
    assert entry.metadata["changes"]["name"] == {"before": "Module 0", "after": "Invoicing"}


def test_put_refuses_to_change_a_module_slug(api, app):
    module = make_module(app)
    response = api.put(f"{modules_url(app)}/{module.id}", {"slug": "renamed"})
    assert response.status_code == 400
    assert Module.objects.get(pk=module.id).slug == "module-0"
    assert audit_entries(module.id) == []


def test_put_with_a_stale_if_match_is_412_and_changes_nothing(api, app):
    module = make_module(app)
    url = f"{modules_url(app)}/{module.id}"
    etag = api.get(url)["ETag"]
    api.put(url, {"name": "Changed once"})
    response = api.put(url, {"name": "Changed twice"}, headers={"If-Match": etag})
    assert response.status_code == 412
    assert Module.objects.get(pk=module.id).name == "Changed once"


# -- deactivate -----------------------------------------------------------------------------------


def test_deactivating_an_active_module_answers_200_with_the_module_and_is_audited_once(api, app):
    module = make_module(app)
    response = api.post(f"{modules_url(app)}/{module.id}/deactivate")
    assert response.status_code == 200
    assert response.json()["status"] == "inactive"
    entry = AuditEntry.objects.get(target_id=str(module.id))
    assert entry.event_type == "app.module.deactivated"
    assert entry.metadata["changes"]["status"] == {"before": "active", "after": "inactive"}


def test_deactivating_an_inactive_module_is_a_conflict_that_changes_nothing(api, app):
    module = make_module(app, status="inactive")
    response = api.post(f"{modules_url(app)}/{module.id}/deactivate")
    assert response.status_code == 409
    assert response.json()["message"] == "Cannot deactivate module from status 'inactive'"
    assert audit_entries(module.id) == []


def test_deactivating_a_module_of_another_application_is_404(api, app, other_app):
    foreign = make_module(other_app)
    assert api.post(f"{modules_url(app)}/{foreign.id}/deactivate").status_code == 404
    assert Module.objects.get(pk=foreign.id).status == "active"


# -- tenancy --------------------------------------------------------------------------------------


def test_organization_scoped_credentials_get_403_even_for_an_unknown_application(initialized):
    principal = scoped_to(OrganizationFactory())
    request = APIRequestFactory().get(f"{APPS}/{uuid.uuid4()}/modules")
    force_authenticate(request, user=principal.user, token=principal)
    response = ModuleViewSet.as_view({"get": "list"})(request, application_id=str(uuid.uuid4()))
    assert response.status_code == 403


def test_the_list_runs_a_constant_number_of_queries(api, app):
    for n in range(30):
        make_module(app, n)
    api.get(modules_url(app))  # warm caches of the request path
    with CaptureQueriesContext(connection) as small:
        assert api.get(modules_url(app), {"pageSize": 5}).status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert api.get(modules_url(app), {"pageSize": 30}).status_code == 200
    assert len(small) == len(large)
