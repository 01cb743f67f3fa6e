"""OIDC clients through the admin API: the contract's Clients row and upstream Porta §7."""

from __future__ import annotations

import uuid

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory, force_authenticate

from applications.api.client_views import ClientViewSet
from applications.models import Application, Client, ClientSecret
from audit.models import AuditEntry
from organizations.models import Organization
from porta.api.principal import Principal
from rbac.admin_roles import ALL_ADMIN_PERMISSIONS
from rbac.selectors import AdminAuthorization
from tests.client_factories import make_application, make_client
from tests.factories import OrganizationFactory, UserFactory

CLIENTS = "/api/admin/clients"
WARNING = "Store the secret securely. It will not be shown again."


@pytest.fixture
def org(initialized) -> Organization:
    return OrganizationFactory()


@pytest.fixture
def app(initialized) -> Application:
    return make_application()


def body_for(org: Organization, app: Application, **fields) -> dict:
    return {
        "organizationId": str(org.id),
        "applicationId": str(app.id),
        "clientName": "Web portal",
        "clientType": "confidential",
        "applicationType": "web",
        "redirectUris": ["https://portal.example.com/callback"],
        **fields,
    }


def create(api, org, app, **fields) -> dict:
    response = api.post(CLIENTS, body_for(org, app, **fields))
    assert response.status_code == 201, response.content
    return response.json()


def refused(api, org, app, status: int = 400, **fields) -> dict:
    response = api.post(CLIENTS, body_for(org, app, **fields))
    assert response.status_code == status, response.content
    return response.json()


# -- create ---------------------------------------------------------------------------------------


def test_creating_a_confidential_client_returns_201_with_the_client_and_its_secret_once(api, org, app):
    response = api.post(CLIENTS, body_for(org, app))
    body = response.json()
    assert response.status_code == 201
    assert set(body) == {"client", "secret", "warning"}
    assert response["Location"] == f"{CLIENTS}/{body['client']['id']}"
    assert body["warning"] == WARNING
    assert len(body["secret"]) >= 64
    assert body["client"]["status"] == "active"


def test_creating_a_public_client_returns_a_null_secret_and_no_warning(api, org, app):
    body = create(api, org, app, clientType="public", applicationType="spa")
    assert body["secret"] is None
    assert "warning" not in body
    assert not ClientSecret.objects.filter(client_id=body["client"]["id"]).exists()


def test_the_client_id_is_generated_with_at_least_256_bits(api, org, app):
    first = create(api, org, app)["client"]["clientId"]
    second = create(api, org, app)["client"]["clientId"]
    assert len(first) >= 43
    assert first != second


def test_a_client_id_in_the_body_is_refused_as_unknown(api, org, app):
    body = refused(api, org, app, clientId="chosen-by-me")
    assert "clientId" in body["details"]


def test_a_confidential_web_client_gets_the_upstream_defaults(api, org, app):
    client = create(api, org, app)["client"]
    assert client["grantTypes"] == ["authorization_code", "refresh_token", "client_credentials"]
    assert client["responseTypes"] == ["code"]
    assert client["scope"] == "openid profile email"
    assert client["tokenEndpointAuthMethod"] == "client_secret_basic"
    assert client["requirePkce"] is True
    assert client["loginMethods"] is None


def test_a_public_native_client_gets_no_client_credentials_grant_and_auth_method_none(api, org, app):
    client = create(
        api, org, app, clientType="public", applicationType="native", redirectUris=["com.example.app:/cb"]
    )["client"]
    assert client["grantTypes"] == ["authorization_code", "refresh_token"]
    assert client["tokenEndpointAuthMethod"] == "none"


def test_a_missing_organization_is_422_naming_it(api, app):
    body = refused(api, Organization(id=uuid.uuid4()), app, status=422)
    assert body["message"] == "Organization not found"
    assert "organizationId" in body["details"]


def test_a_missing_application_is_422_naming_it(api, org):
    body = refused(api, org, Application(id=uuid.uuid4()), status=422)
    assert body["message"] == "Application not found"
    assert "applicationId" in body["details"]


@pytest.mark.parametrize("status", ["suspended", "archived"])
def test_a_client_for_an_organization_that_is_not_active_is_422(api, org, app, status):
    Organization.objects.filter(pk=org.pk).update(status=status)
    body = refused(api, org, app, status=422)
    assert body["error"] == "UnprocessableEntity"
    assert not Client.objects.filter(organization=org).exists()


@pytest.mark.parametrize("status", ["inactive", "archived"])
def test_a_client_for_an_application_that_is_not_active_is_422(api, org, app, status):
    Application.objects.filter(pk=app.pk).update(status=status)
    assert "applicationId" in refused(api, org, app, status=422)["details"]


def test_a_wildcard_redirect_uri_is_400_naming_it(api, org, app):
    uri = "https://*.example.com/callback"
    body = refused(api, org, app, redirectUris=["https://ok.example.com/cb", uri])
    assert any(uri in message for message in body["details"]["redirectUris"])


def test_an_http_redirect_uri_off_localhost_is_400(api, org, app):
    body = refused(api, org, app, redirectUris=["http://portal.example.com/callback"])
    assert "https" in body["details"]["redirectUris"][0]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_an_http_redirect_uri_on_loopback_is_accepted(api, org, app, host):
    uri = f"http://{host}:8080/callback"
    assert create(api, org, app, redirectUris=[uri])["client"]["redirectUris"] == [uri]


def test_a_redirect_uri_with_a_fragment_is_400(api, org, app):
    refused(api, org, app, redirectUris=["https://portal.example.com/cb#frag"])


def test_a_relative_redirect_uri_is_400(api, org, app):
    refused(api, org, app, redirectUris=["/callback"])


def test_a_custom_scheme_is_accepted_for_a_native_application(api, org, app):
    client = create(api, org, app, applicationType="native", redirectUris=["com.example.app:/cb"])["client"]
    assert client["redirectUris"] == ["com.example.app:/cb"]


def test_a_custom_scheme_is_refused_for_a_web_application(api, org, app):
    refused(api, org, app, redirectUris=["com.example.app:/cb"])


def test_a_javascript_uri_is_refused_even_for_a_native_application(api, org, app):
    refused(api, org, app, applicationType="native", redirectUris=["javascript:alert(1)"])


def test_more_than_ten_redirect_uris_are_refused(api, org, app):
    uris = [f"https://portal.example.com/cb{i}" for i in range(11)]
    assert "redirectUris" in refused(api, org, app, redirectUris=uris)["details"]


def test_at_least_one_redirect_uri_is_required(api, org, app):
    assert "redirectUris" in refused(api, org, app, redirectUris=[])["details"]


def test_post_logout_redirect_uris_follow_the_same_rules(api, org, app):
    body = refused(api, org, app, postLogoutRedirectUris=["http://portal.example.com/bye"])
    assert "postLogoutRedirectUris" in body["details"]


def test_an_allowed_origin_with_a_path_is_refused(api, org, app):
    body = refused(api, org, app, allowedOrigins=["https://portal.example.com/app"])
    assert "allowedOrigins" in body["details"]


def test_an_allowed_origin_is_stored_as_given(api, org, app):
    client = create(api, org, app, allowedOrigins=["https://portal.example.com:8443"])["client"]
    assert client["allowedOrigins"] == ["https://portal.example.com:8443"]


@pytest.mark.parametrize(
    ("client_type", "method"), [("public", "client_secret_basic"), ("confidential", "none")]
)
def test_an_auth_method_that_contradicts_the_client_type_is_400(api, org, app, client_type, method):
    body = refused(api, org, app, clientType=client_type, tokenEndpointAuthMethod=method)
    assert "tokenEndpointAuthMethod" in body["details"]


def test_a_public_client_cannot_use_the_client_credentials_grant(api, org, app):
    body = refused(api, org, app, clientType="public", grantTypes=["client_credentials"])
    assert "grantTypes" in body["details"]


def test_an_unknown_grant_type_is_400(api, org, app):
    assert "grantTypes.1" in refused(api, org, app, grantTypes=["authorization_code", "magic"])["details"]


def test_an_empty_login_methods_list_is_400(api, org, app):
    assert "loginMethods" in refused(api, org, app, loginMethods=[])["details"]


def test_an_unknown_client_type_is_400(api, org, app):
    assert "clientType" in refused(api, org, app, clientType="semi-public")["details"]


def test_create_is_audited_once_without_the_secret(api, org, app):
    body = create(api, org, app)
    entries = AuditEntry.objects.filter(target_type="client", target_id=body["client"]["id"])
    assert [e.event_type for e in entries] == ["client.created"]
    entry = entries.get()
    assert entry.organization_id == org.id
    assert entry.metadata["changes"]["clientName"] == {"before": None, "after": "Web portal"}
    stored_hash = ClientSecret.objects.get(client_id=body["client"]["id"]).secret_hash
    assert body["secret"] not in str(entry.metadata)
    assert stored_hash not in str(entry.metadata)


# -- read -----------------------------------------------------------------------------------------


def test_a_client_is_read_by_id_with_an_etag(api, org, app):
    client = create(api, org, app)["client"]
    response = api.get(f"{CLIENTS}/{client['id']}")
    assert response.status_code == 200
    assert response.json()["clientId"] == client["clientId"]
    assert response["ETag"]


def test_an_unknown_client_is_404(api):
    response = api.get(f"{CLIENTS}/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["message"] == "Client not found"


def test_effective_login_methods_inherit_the_organization_default(api, org, app):
    Organization.objects.filter(pk=org.pk).update(default_login_methods=["magic_link"])
    client = create(api, org, app)["client"]
    assert api.get(f"{CLIENTS}/{client['id']}").json()["effectiveLoginMethods"] == ["magic_link"]


def test_the_clients_own_login_methods_override_the_organization_default(api, org, app):
    client = create(api, org, app, loginMethods=["password"])["client"]
    assert client["effectiveLoginMethods"] == ["password"]


def test_a_client_of_a_suspended_organization_is_unusable_but_keeps_its_status(api, org, app):
    client = create(api, org, app)["client"]
    api.post(f"/api/admin/organizations/{org.id}/suspend")
    body = api.get(f"{CLIENTS}/{client['id']}").json()
    assert body["usable"] is False
    assert body["unusableReason"] == "Organization is suspended"
    assert body["status"] == "active"
    assert Client.objects.get(pk=client["id"]).status == "active"


def test_a_client_of_an_inactive_application_is_unusable(api, org, app):
    client = create(api, org, app)["client"]
    Application.objects.filter(pk=app.pk).update(status="inactive")
    body = api.get(f"{CLIENTS}/{client['id']}").json()
    assert body["usable"] is False
    assert body["unusableReason"] == "Application is inactive"


def test_an_active_client_of_active_parents_is_usable(api, org, app):
    client = create(api, org, app)["client"]
    assert client["usable"] is True
    assert client["unusableReason"] is None


def test_list_filters_by_organization(api, org, app):
    mine = create(api, org, app)["client"]
    create(api, OrganizationFactory(), app)
    body = api.get(CLIENTS, {"organizationId": str(org.id)}).json()
    assert [c["id"] for c in body["data"]] == [mine["id"]]


def test_list_filters_by_application(api, org, app):
    mine = create(api, org, app)["client"]
    create(api, org, make_application())
    body = api.get(CLIENTS, {"applicationId": str(app.id)}).json()
    assert [c["id"] for c in body["data"]] == [mine["id"]]


def test_list_filters_by_status(api, org, app):
    create(api, org, app)
    inactive = create(api, org, app)["client"]
    api.post(f"{CLIENTS}/{inactive['id']}/deactivate")
    body = api.get(CLIENTS, {"status": "inactive"}).json()
    assert [c["id"] for c in body["data"]] == [inactive["id"]]


def test_list_refuses_an_unknown_status(api):
    assert api.get(CLIENTS, {"status": "frozen"}).status_code == 400


def test_list_searches_the_client_name(api, org, app):
    create(api, org, app, clientName="Billing portal")
    create(api, org, app, clientName="Reporting")
    body = api.get(CLIENTS, {"search": "billing"}).json()
    assert [c["clientName"] for c in body["data"]] == ["Billing portal"]


def test_list_searches_the_client_id(api, org, app):
    target = create(api, org, app)["client"]
    create(api, org, app)
    body = api.get(CLIENTS, {"search": target["clientId"][:20]}).json()
    assert [c["id"] for c in body["data"]] == [target["id"]]


def test_list_sorts_by_client_name(api, org, app):
    for name in ("Charlie", "Alpha", "Bravo"):
        create(api, org, app, clientName=name)
    body = api.get(CLIENTS, {"sort": "clientName", "order": "asc", "organizationId": str(org.id)}).json()
    assert [c["clientName"] for c in body["data"]] == ["Alpha", "Bravo", "Charlie"]


def test_list_pages_with_a_cursor(api, org, app):
    created = {create(api, org, app)["client"]["id"] for _ in range(3)}
    first = api.get(CLIENTS, {"limit": 2, "organizationId": str(org.id)}).json()
    assert first["pagination"]["hasMore"] is True
    second = api.get(
        CLIENTS, {"limit": 2, "organizationId": str(org.id), "cursor": first["pagination"]["nextCursor"]}
    ).json()
    assert {c["id"] for c in first["data"] + second["data"]} == created


def test_list_runs_a_constant_number_of_queries(api, initialized):
    for _ in range(30):
        make_client(OrganizationFactory(), make_application())
    api.get(CLIENTS)  # warm caches of the request path
    with CaptureQueriesContext(connection) as small:
        assert api.get(CLIENTS, {"pageSize": 5}).status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert api.get(CLIENTS, {"pageSize": 30}).status_code == 200
    with CaptureQueriesContext(connection) as cursor:
        assert api.get(CLIENTS, {"limit": 30}).status_code == 200
    assert len(small) == len(large)
    # authentication (user, roles) + count + page; the cursor mode skips the count.
    assert len(large) <= 4
    assert len(cursor) <= 3


# -- update ---------------------------------------------------------------------------------------


def test_put_changes_settings_and_audits_the_difference(api, org, app):
    client = create(api, org, app)["client"]
    response = api.put(f"{CLIENTS}/{client['id']}", {"clientName": "Renamed", "requirePkce": False})
    assert response.status_code == 200, response.content
    assert response.json()["clientName"] == "Renamed"
    entry = AuditEntry.objects.get(event_type="client.updated", target_id=client["id"])
    assert entry.metadata["changes"]["clientName"] == {"before": "Web portal", "after": "Renamed"}
    assert entry.metadata["changes"]["requirePkce"] == {"before": True, "after": False}


def test_put_accepts_a_get_modify_put_round_trip(api, org, app):
    client = create(api, org, app)["client"]
    response = api.put(f"{CLIENTS}/{client['id']}", {**client, "scope": "openid"})
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "openid"


def test_put_refuses_to_change_the_client_type(api, org, app):
    client = create(api, org, app)["client"]
    response = api.put(f"{CLIENTS}/{client['id']}", {"clientType": "public"})
    assert response.status_code == 400
    assert Client.objects.get(pk=client["id"]).client_type == "confidential"


def test_put_checks_redirect_uris(api, org, app):
    client = create(api, org, app)["client"]
    response = api.put(f"{CLIENTS}/{client['id']}", {"redirectUris": ["https://evil.example.com/*"]})
    assert response.status_code == 400
    assert Client.objects.get(pk=client["id"]).redirect_uris == ["https://portal.example.com/callback"]


def test_put_with_a_stale_if_match_is_412_and_changes_nothing(api, org, app):
    client = create(api, org, app)["client"]
    etag = api.get(f"{CLIENTS}/{client['id']}")["ETag"]
    api.put(f"{CLIENTS}/{client['id']}", {"clientName": "Changed once"})
    response = api.put(
        f"{CLIENTS}/{client['id']}", {"clientName": "Changed twice"}, headers={"If-Match": etag}
    )
    assert response.status_code == 412
    assert Client.objects.get(pk=client["id"]).client_name == "Changed once"


def test_put_on_a_revoked_client_is_a_conflict(api, org, app):
    client = create(api, org, app)["client"]
    api.post(f"{CLIENTS}/{client['id']}/revoke")
    assert api.put(f"{CLIENTS}/{client['id']}", {"clientName": "Back"}).status_code == 409


# -- state ----------------------------------------------------------------------------------------


def test_deactivating_an_active_client_returns_it_inactive(api, org, app):
    client = create(api, org, app)["client"]
    response = api.post(f"{CLIENTS}/{client['id']}/deactivate")
    assert response.status_code == 200
    assert response.json()["status"] == "inactive"


def test_activating_an_inactive_client_returns_it_active(api, org, app):
    client = create(api, org, app)["client"]
    api.post(f"{CLIENTS}/{client['id']}/deactivate")
    response = api.post(f"{CLIENTS}/{client['id']}/activate")
    assert response.status_code == 200
    assert response.json()["status"] == "active"


def test_activating_an_active_client_is_a_conflict(api, org, app):
    client = create(api, org, app)["client"]
    response = api.post(f"{CLIENTS}/{client['id']}/activate")
    assert response.status_code == 409
    assert response.json()["message"] == "Cannot activate client from status 'active'"


def test_revoking_an_inactive_client_makes_it_revoked(api, org, app):
    client = create(api, org, app)["client"]
    api.post(f"{CLIENTS}/{client['id']}/deactivate")
    response = api.post(f"{CLIENTS}/{client['id']}/revoke")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"


def test_revoking_a_revoked_client_is_a_conflict(api, org, app):
    client = create(api, org, app)["client"]
    api.post(f"{CLIENTS}/{client['id']}/revoke")
    assert api.post(f"{CLIENTS}/{client['id']}/revoke").status_code == 409


def test_a_revoked_client_cannot_be_activated(api, org, app):
    client = create(api, org, app)["client"]
    api.post(f"{CLIENTS}/{client['id']}/revoke")
    assert api.post(f"{CLIENTS}/{client['id']}/activate").status_code == 409
    assert Client.objects.get(pk=client["id"]).status == "revoked"


def test_each_transition_is_audited_once_under_its_upstream_name(api, org, app):
    client = create(api, org, app)["client"]
    for action in ("deactivate", "activate", "revoke"):
        assert api.post(f"{CLIENTS}/{client['id']}/{action}").status_code == 200
    events = AuditEntry.objects.filter(target_id=client["id"]).order_by("created_at", "id")
    assert [e.event_type for e in events] == [
        "client.created",
        "client.deactivated",
        "client.activated",
        "client.revoked",
    ]


def test_history_lists_the_clients_audit_entries_newest_first(api, org, app):
    client = create(api, org, app)["client"]
    api.put(f"{CLIENTS}/{client['id']}", {"clientName": "Renamed"})
    body = api.get(f"{CLIENTS}/{client['id']}/history").json()
    assert [e["eventType"] for e in body["data"]] == ["client.updated", "client.created"]


# -- tenancy --------------------------------------------------------------------------------------

factory = APIRequestFactory()


def scoped_to(organization: Organization) -> Principal:
    return Principal(
        user=UserFactory(organization=organization),
        organization_id=organization.id,
        is_admin_org_member=True,
        authorization=AdminAuthorization(frozenset({"porta-super-admin"}), ALL_ADMIN_PERMISSIONS),
        credential="api_key",
        scope_organization_id=organization.id,
    )


def call(actions: dict, principal: Principal, method: str = "get", data=None, path="/", **kwargs):
    request = getattr(factory, method)(path, data, format="json")
    force_authenticate(request, user=principal.user, token=principal)
    return ClientViewSet.as_view(actions)(request, **kwargs)


def test_a_scoped_caller_reads_a_client_of_its_own_organization(org, app):
    client, _ = make_client(org, app)
    assert call({"get": "retrieve"}, scoped_to(org), pk=str(client.id)).status_code == 200


def test_a_scoped_caller_gets_404_for_a_client_of_another_organization(org, app):
    client, _ = make_client(OrganizationFactory(), app)
    assert call({"get": "retrieve"}, scoped_to(org), pk=str(client.id)).status_code == 404


def test_a_scoped_caller_cannot_deactivate_a_client_of_another_organization(org, app):
    client, _ = make_client(OrganizationFactory(), app)
    response = call({"post": "deactivate"}, scoped_to(org), method="post", pk=str(client.id))
    assert response.status_code == 404
    assert Client.objects.get(pk=client.id).status == "active"


def test_a_scoped_caller_cannot_add_a_secret_to_a_client_of_another_organization(org, app):
    client, _ = make_client(OrganizationFactory(), app)
    response = call({"post": "secrets_create"}, scoped_to(org), method="post", data={}, pk=str(client.id))
    assert response.status_code == 404
    assert client.secrets.count() == 1


def test_a_scoped_caller_lists_only_its_organizations_clients(org, app):
    mine, _ = make_client(org, app)
    make_client(OrganizationFactory(), app)
    response = call({"get": "list"}, scoped_to(org))
    assert [row["id"] for row in response.data["data"]] == [str(mine.id)]


def test_a_scoped_caller_creating_for_another_organization_gets_organization_not_found(org, app):
    other = OrganizationFactory()
    response = call({"post": "create"}, scoped_to(org), method="post", data=body_for(other, app))
    assert response.status_code == 404
    assert orjson.loads(response.content)["message"] == "Organization not found"
    assert not Client.objects.filter(organization=other).exists()


def test_a_scoped_caller_creates_a_client_for_its_own_organization(org, app):
    response = call({"post": "create"}, scoped_to(org), method="post", data=body_for(org, app))
    assert response.status_code == 201
    assert Client.objects.filter(organization=org).count() == 1
