"""POST /api/admin/import: dry-run, merge and overwrite of a manifest, in one transaction, through
the domain services (validated and audited as through the API), never importing secrets."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from applications.models import Application, ClaimDefinition, ClientSecret
from applications.models import Client as OAuthClient
from audit.models import AuditEntry
from organizations.models import Organization
from rbac.models import Permission, Role, RolePermission, UserRole
from tests.conftest import ApiClient, issue_token
from tests.test_bola_matrix import database_digest

PATH = "/api/admin/import"


def manifest(**sections: Any) -> dict[str, Any]:
    return {"version": "1.0", **sections}


def full_manifest() -> dict[str, Any]:
    """One row of every section, each naming rows the same manifest creates."""
    return manifest(
        organizations=[
            {"slug": "acme", "name": "Acme", "defaultLocale": "de", "branding": {"primaryColor": "#112233"}}
        ],
        applications=[{"slug": "crm", "name": "CRM", "description": "Customers"}],
        permissions=[
            {"applicationSlug": "crm", "slug": "crm:contacts:read", "name": "Read contacts"},
            {"applicationSlug": "crm", "slug": "crm:contacts:write", "name": "Write contacts"},
        ],
        roles=[
            {"applicationSlug": "crm", "slug": "viewer", "name": "Viewer", "permissions": ["crm:contacts:read"]}  # noqa: E501
        ],
        claimDefinitions=[{"applicationSlug": "crm", "claimName": "tier", "claimType": "string"}],
        clients=[
            {
                "organizationSlug": "acme", "applicationSlug": "crm", "clientName": "CRM web",
                "clientType": "confidential", "applicationType": "web",
                "redirectUris": ["https://crm.example/callback"],
            }
        ],
    )  # fmt: skip


def run(api: ApiClient, mode: str, body: dict[str, Any]):
    return api.post(PATH, {"mode": mode, "manifest": body})


def test_merge_creates_every_section_in_dependency_order(api):
    response = run(api, "merge", full_manifest())
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["applied"] is True
    assert body["totals"] == {"created": 7, "updated": 0, "skipped": 0, "errors": 0}
    organization = Organization.objects.get(slug="acme")
    assert (organization.default_locale, organization.branding_primary_color) == ("de", "#112233")
    role = Role.objects.get(application__slug="crm", slug="viewer")
    assert [p.slug for p in role.permissions.all()] == ["crm:contacts:read"]
    assert ClaimDefinition.objects.get(application__slug="crm", name="tier").claim_type == "string"
    client = OAuthClient.objects.get(client_name="CRM web")
    assert (client.organization_id, client.application.slug) == (organization.id, "crm")


def test_the_report_names_each_created_row_by_its_keys_and_id(api):
    body = run(api, "merge", full_manifest()).json()
    [created] = body["organizations"]["created"]
    assert created == {"index": 0, "slug": "acme", "id": str(Organization.objects.get(slug="acme").id)}
    assert [e["slug"] for e in body["permissions"]["created"]] == ["crm:contacts:read", "crm:contacts:write"]


def test_dry_run_changes_nothing(api):
    before = database_digest()
    response = run(api, "dry-run", full_manifest())
    assert response.status_code == 200, response.content
    assert response.json()["applied"] is False
    assert database_digest() == before


def test_dry_run_reports_what_merge_then_does(api):
    Organization.objects.create(name="Acme", slug="acme")
    preview = run(api, "dry-run", full_manifest()).json()
    applied = run(api, "merge", full_manifest()).json()
    for section in ("organizations", "applications", "permissions", "roles", "claimDefinitions", "clients"):
        for outcome in ("created", "updated", "skipped", "errors"):
            strip = [{k: v for k, v in e.items() if k != "id"} for e in preview[section][outcome]]
            assert strip == [{k: v for k, v in e.items() if k != "id"} for e in applied[section][outcome]]
    assert preview["totals"] == applied["totals"] == {"created": 6, "updated": 0, "skipped": 1, "errors": 0}


def test_dry_run_is_the_default_mode(api):
    response = api.post(PATH, {"manifest": manifest(applications=[{"slug": "crm", "name": "CRM"}])})
    assert response.status_code == 200, response.content
    assert response.json()["mode"] == "dry-run"
    assert not Application.objects.filter(slug="crm").exists()


def test_merge_skips_existing_rows_and_leaves_them_unchanged(api):
    Application.objects.create(name="Old name", slug="crm")
    body = run(api, "merge", manifest(applications=[{"slug": "crm", "name": "New name"}])).json()
    assert body["applications"]["skipped"][0]["reason"] == "Already exists"
    assert Application.objects.get(slug="crm").name == "Old name"


def test_overwrite_updates_the_fields_an_item_states_and_keeps_the_others(api):
    Application.objects.create(name="Old name", slug="crm", description="Kept")
    response = run(api, "overwrite", manifest(applications=[{"slug": "crm", "name": "New name"}]))
    assert response.status_code == 200, response.content
    [updated] = response.json()["applications"]["updated"]
    assert updated["changes"] == {"name": {"before": "Old name", "after": "New name"}}
    application = Application.objects.get(slug="crm")
    assert (application.name, application.description) == ("New name", "Kept")


def test_overwrite_creates_what_is_missing(api):
    body = run(api, "overwrite", manifest(applications=[{"slug": "crm", "name": "CRM"}])).json()
    assert body["totals"]["created"] == 1
    assert Application.objects.filter(slug="crm").exists()


def test_overwrite_of_an_unchanged_row_is_skipped_and_audits_nothing(api):
    Application.objects.create(name="CRM", slug="crm")
    entries = AuditEntry.objects.filter(target_type="application").count()
    body = run(api, "overwrite", manifest(applications=[{"slug": "crm", "name": "CRM"}])).json()
    assert body["applications"]["skipped"][0]["reason"] == "Unchanged"
    assert AuditEntry.objects.filter(target_type="application").count() == entries


def test_overwrite_makes_a_roles_permissions_exactly_the_listed_ones(api):
    run(api, "merge", full_manifest())
    role = {
        "applicationSlug": "crm",
        "slug": "viewer",
        "name": "Viewer",
        "permissions": ["crm:contacts:write"],
    }
    response = run(api, "overwrite", manifest(roles=[role]))
    assert response.status_code == 200, response.content
    assert response.json()["roles"]["updated"][0]["changes"]["permissions"] == {
        "after": ["crm:contacts:write"]
    }
    viewer = Role.objects.get(application__slug="crm", slug="viewer")
    assert [p.slug for p in viewer.permissions.all()] == ["crm:contacts:write"]


def test_overwrite_cannot_change_an_immutable_field(api):
    run(api, "merge", full_manifest())
    claim = {"applicationSlug": "crm", "claimName": "tier", "claimType": "number"}
    response = run(api, "overwrite", manifest(claimDefinitions=[claim]))
    assert response.status_code == 422, response.content
    [error] = response.json()["report"]["claimDefinitions"]["errors"]
    assert (error["statusCode"], error["details"]) == (400, {"claimType": ["Immutable."]})


def test_a_failing_item_rolls_back_everything(api):
    body = full_manifest()
    body["clients"][0]["redirectUris"] = ["http://not-loopback.example/cb"]  # https required
    before = database_digest()
    response = run(api, "merge", body)
    assert response.status_code == 422, response.content
    assert response.json()["error"] == "UnprocessableEntity"
    assert "nothing was changed" in response.json()["message"]
    assert database_digest() == before


def test_the_failed_report_names_every_failing_item_and_what_would_have_been_done(api):
    body = full_manifest()
    body["applications"].append({"slug": "x", "name": ""})
    body["clients"][0]["redirectUris"] = ["http://not-loopback.example/cb"]
    report = run(api, "merge", body).json()["report"]
    assert report["applied"] is False
    assert report["totals"] == {"created": 6, "updated": 0, "skipped": 0, "errors": 2}
    [app_error] = report["applications"]["errors"]
    assert (app_error["index"], app_error["slug"], app_error["statusCode"]) == (1, "x", 400)
    assert "name" in app_error["details"]
    [client_error] = report["clients"]["errors"]
    assert client_error["error"] == "ValidationError"
    assert "redirectUris" in client_error["details"]


def test_a_reference_to_a_missing_row_is_an_item_error(api):
    role = {"applicationSlug": "nowhere", "slug": "viewer", "name": "Viewer"}
    report = run(api, "merge", manifest(roles=[role])).json()["report"]
    [error] = report["roles"]["errors"]
    assert (error["statusCode"], error["message"]) == (422, "Application not found")


def test_an_item_listed_twice_is_an_error(api):
    apps = [{"slug": "crm", "name": "CRM"}, {"slug": "crm", "name": "CRM again"}]
    report = run(api, "merge", manifest(applications=apps)).json()["report"]
    assert [e["index"] for e in report["applications"]["errors"]] == [1]
    assert not Application.objects.filter(slug="crm").exists()


def test_every_import_is_audited_item_by_item_as_the_importer(api, super_admin):
    run(api, "merge", full_manifest())
    entries = AuditEntry.objects.filter(actor_id=super_admin.id)
    created = set(entries.values_list("event_type", flat=True))
    expected = {"org.created", "app.created", "permission.created", "role.created"}
    assert expected | {"role.permissions.assigned", "claim.defined", "client.created"} <= created
    summary = entries.get(event_type="import.completed")
    assert (summary.metadata["mode"], summary.metadata["created"]) == ("merge", 7)


def test_a_manifest_carrying_a_secret_is_refused_and_changes_nothing(api):
    body = full_manifest()
    body["clients"][0]["clientSecret"] = "s3cret-from-elsewhere"
    before = database_digest()
    response = run(api, "merge", body)
    assert response.status_code == 400
    assert response.json()["message"] == "Secrets are never imported: manifest.clients[0].clientSecret"
    assert database_digest() == before


def test_a_secret_nested_anywhere_in_an_item_is_refused(api):
    body = manifest(organizations=[{"slug": "acme", "name": "Acme", "branding": {"passwordHash": "x"}}])
    response = run(api, "merge", body)
    assert response.status_code == 400
    assert response.json()["details"] == {
        "manifest.organizations[0].branding.passwordHash": ["Secrets are never imported."]
    }  # noqa: E501


def test_a_confidential_client_is_imported_without_any_secret(api):
    body = run(api, "merge", full_manifest()).json()
    [created] = body["clients"]["created"]
    assert "secret" not in created
    assert "POST /api/admin/clients/" in created["note"]
    assert not ClientSecret.objects.filter(client_id=created["id"]).exists()


def test_a_client_with_a_client_id_is_created_with_it_and_matched_by_it(api):
    body = full_manifest()
    body["clients"][0]["clientId"] = "crm-web"
    run(api, "merge", body)
    client = {**body["clients"][0], "clientName": "CRM web renamed"}
    response = run(api, "overwrite", manifest(clients=[client]))
    assert response.status_code == 200, response.content
    assert OAuthClient.objects.get(client_id="crm-web").client_name == "CRM web renamed"


def test_an_unsupported_version_is_a_400(api):
    response = run(api, "merge", {"version": "2.0", "applications": []})
    assert response.status_code == 400
    assert response.json()["details"] == {"manifest.version": ['Must be "1.0".']}


def test_an_unknown_section_is_a_400_naming_it(api):
    response = run(api, "merge", manifest(users=[{"email": "a@b.example", "passwordHash": "x"}]))
    assert response.status_code == 400
    assert response.json()["details"] == {"manifest.users": ["Unknown section."]}


def test_an_unknown_mode_is_a_400(api):
    response = run(api, "replace", manifest())
    assert response.status_code == 400
    assert "mode" in response.json()["details"]


def importer_holding(make_admin, *roles: str) -> ApiClient:
    """A client of a new admin holding ``roles`` and ``admin:import:write`` (a custom role)."""
    importer_role, _ = Role.objects.get_or_create(
        application=Application.objects.get(slug="porta-admin"), slug="importer"
    )
    RolePermission.objects.get_or_create(
        role=importer_role, permission=Permission.objects.get(slug="admin:import:write")
    )
    user = make_admin(*roles)
    UserRole.objects.create(user=user, role=importer_role)
    client = Client()
    return ApiClient(client, issue_token(client, user.email, "admin-password-1")["access_token"])


def test_an_item_needs_the_permission_its_api_route_needs(make_admin):
    """import:write alone (here beside the read-only auditor role) imports nothing it could not
    write through the API."""
    caller = importer_holding(make_admin, "porta-auditor")
    response = run(caller, "merge", manifest(organizations=[{"slug": "acme", "name": "Acme"}]))
    assert response.status_code == 422, response.content
    [error] = response.json()["report"]["organizations"]["errors"]
    assert (error["statusCode"], error["message"]) == (
        403,
        "Insufficient permissions. Required: admin:org:create",
    )
    assert not Organization.objects.filter(slug="acme").exists()


def test_an_import_cannot_grant_an_admin_role_a_permission_the_importer_lacks(make_admin):
    caller = importer_holding(make_admin, "porta-app-admin")
    role = {"applicationSlug": "porta-admin", "slug": "porta-auditor", "name": "Auditor"}
    role["permissions"] = ["admin:config:update"]
    response = run(caller, "overwrite", manifest(roles=[role]))
    assert response.status_code == 422, response.content
    [error] = response.json()["report"]["roles"]["errors"]
    assert error["statusCode"] == 403
    auditor = Role.objects.get(application__slug="porta-admin", slug="porta-auditor")
    assert not auditor.permissions.filter(slug="admin:config:update").exists()


def test_a_dry_run_of_a_failing_manifest_answers_what_merge_would(api):
    body = manifest(applications=[{"slug": "crm", "name": "CRM"}, {"slug": "x", "name": "Too short a slug"}])
    preview = run(api, "dry-run", body)
    assert preview.status_code == 422
    assert preview.json()["report"]["totals"] == run(api, "merge", body).json()["report"]["totals"]


def test_overwrite_changes_the_branding_fields_an_item_states_and_keeps_the_others(api):
    organization = Organization.objects.create(
        name="Acme", slug="acme", branding_company_name="Acme Inc", branding_primary_color="#000000"
    )
    item = {"slug": "acme", "name": "Acme", "branding": {"primaryColor": "#FFFFFF"}}
    response = run(api, "overwrite", manifest(organizations=[item]))
    assert response.status_code == 200, response.content
    organization.refresh_from_db()
    assert (organization.branding_primary_color, organization.branding_company_name) == (
        "#FFFFFF",
        "Acme Inc",
    )
    [updated] = response.json()["organizations"]["updated"]
    assert updated["changes"] == {"branding.primaryColor": {"before": "#000000", "after": "#FFFFFF"}}


def test_import_without_the_import_permission_is_403(api_as):
    response = run(
        api_as("porta-app-admin"), "merge", manifest(applications=[{"slug": "crm", "name": "CRM"}])
    )
    assert response.status_code == 403
    assert not Application.objects.filter(slug="crm").exists()


# -- tenancy ------------------------------------------------------------------------------------------


@pytest.fixture
def scoped(api) -> tuple[Organization, ApiClient]:
    """An organization ``home`` with an application to register clients for, and a
    ``porta_pat_`` key scoped to it."""
    home = Organization.objects.create(name="Home", slug="home")
    Application.objects.create(name="Shop", slug="shop")
    response = api.post(
        "/api/admin/api-keys",
        {"name": "Home key", "organizationId": str(home.id), "roles": ["porta-super-admin"]},
    )
    assert response.status_code == 201, response.content
    return home, ApiClient(Client(), response.json()["secret"])


def test_an_organization_scoped_key_cannot_import_into_another_organization(scoped):
    _, key = scoped
    foreign = Organization.objects.create(name="Foreign", slug="foreign")
    before = database_digest()
    response = run(key, "overwrite", manifest(organizations=[{"slug": "foreign", "name": "Planted"}]))
    assert response.status_code == 404
    assert response.json()["message"] == "Organization not found"
    assert database_digest() == before
    assert Organization.objects.get(pk=foreign.pk).name == "Foreign"


def test_an_organization_scoped_key_cannot_create_an_organization(scoped):
    _, key = scoped
    response = run(key, "merge", manifest(organizations=[{"slug": "brand-new", "name": "New"}]))
    assert response.status_code == 404
    assert not Organization.objects.filter(slug="brand-new").exists()


def test_an_organization_scoped_key_cannot_register_a_client_in_another_organization(scoped):
    _, key = scoped
    Organization.objects.create(name="Foreign", slug="foreign")
    client = {
        "organizationSlug": "foreign", "applicationSlug": "shop", "clientName": "Planted",
        "clientType": "public", "applicationType": "spa", "redirectUris": ["https://x.example/cb"],
    }  # fmt: skip
    response = run(key, "merge", manifest(clients=[client]))
    assert response.status_code == 404
    assert not OAuthClient.objects.filter(client_name="Planted").exists()


def test_an_organization_scoped_key_cannot_import_global_resources(scoped):
    _, key = scoped
    response = run(key, "merge", manifest(applications=[{"slug": "crm", "name": "CRM"}]))
    assert response.status_code == 403
    assert not Application.objects.filter(slug="crm").exists()


def test_an_organization_scoped_key_imports_into_its_own_organization(scoped):
    home, key = scoped
    client = {
        "organizationSlug": "home", "applicationSlug": "shop", "clientName": "Shop SPA",
        "clientType": "public", "applicationType": "spa", "redirectUris": ["https://shop.example/cb"],
    }  # fmt: skip
    body = manifest(organizations=[{"slug": "home", "name": "Home renamed"}], clients=[client])
    response = run(key, "overwrite", body)
    assert response.status_code == 200, response.content
    assert Organization.objects.get(pk=home.pk).name == "Home renamed"
    assert OAuthClient.objects.get(client_name="Shop SPA").organization_id == home.id


def test_a_manifest_of_too_many_items_is_a_400(api):
    items = [{"slug": f"app-{n:05d}", "name": "A"} for n in range(10_001)]
    response = run(api, "merge", manifest(applications=items))
    assert response.status_code == 400
    assert response.json()["details"]["manifest"] == ["At most 10000 items in all; this manifest has 10001."]


def test_an_item_that_is_not_an_object_is_an_item_error(api):
    report = run(api, "merge", manifest(applications=["crm"])).json()["report"]
    [error] = report["applications"]["errors"]
    assert (error["index"], error["statusCode"]) == (0, 400)


def test_a_client_of_a_suspended_organization_is_refused_as_through_the_api(api):
    Organization.objects.create(name="Acme", slug="acme", status="suspended")
    Application.objects.create(name="CRM", slug="crm")
    client = {
        "organizationSlug": "acme", "applicationSlug": "crm", "clientName": "Web", "clientType": "public",
        "applicationType": "spa", "redirectUris": ["https://crm.example/cb"],
    }  # fmt: skip
    report = run(api, "merge", manifest(clients=[client])).json()["report"]
    [error] = report["clients"]["errors"]
    assert (error["statusCode"], error["message"]) == (422, "Organization is suspended")
