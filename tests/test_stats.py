"""/stats/overview and /stats/organization/{orgId}: counts from the trigger-kept tallies, which
must always equal counting the rows."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from applications.models import Application
from applications.models import Client as OAuthClient
from organizations.models import Organization, User
from stats import selectors, services
from stats.api.views import StatsViewSet
from stats.models import ALL_ORGANIZATIONS, TallyDelta
from tests.conftest import TENANT_PASSWORD, ApiClient, post_form
from tests.factories import OrganizationFactory, UserFactory
from tests.permission_suite import Endpoint, PermissionSuite

STATS = "/api/admin/stats"


@pytest.fixture(autouse=True)
def _uncached(settings):
    settings.PORTA_STATS_CACHE_TTL = 0


def org_stats(api: ApiClient, organization) -> dict:
    response = api.get(f"{STATS}/organization/{organization.id}")
    assert response.status_code == 200, response.content
    return response.json()


def overview(api: ApiClient) -> dict:
    response = api.get(f"{STATS}/overview")
    assert response.status_code == 200, response.content
    return response.json()


def counted_now(organization_id=None) -> dict:
    starts = selectors.window_starts(timezone.now())
    return {k: v for k, v in selectors.counted(organization_id, starts).items() if v != selectors.Counts()}


def tallied_now(organization_id=None) -> dict:
    starts = selectors.window_starts(timezone.now())
    tallies = selectors.tallied(organization_id or ALL_ORGANIZATIONS, starts)
    return {k: v for k, v in tallies.items() if v != selectors.Counts()}


def login(client: Client, user: User, password: str) -> int:
    return post_form(
        client,
        f"/{user.organization.slug}/auth/token",
        {"grant_type": "password", "client_id": "tenant-cli", "username": user.email, "password": password},
    ).status_code


# -- counts by status ------------------------------------------------------------------------------


def test_organization_stats_count_its_users_by_status(api):
    org = OrganizationFactory()
    UserFactory.create_batch(3, organization=org)
    UserFactory(organization=org, status="suspended")
    UserFactory(organization=org, status="locked")
    UserFactory()  # another organization's

    users = org_stats(api, org)["users"]

    assert {k: users[k] for k in ("total", "active", "inactive", "suspended", "locked")} == {
        "total": 5, "active": 3, "inactive": 0, "suspended": 1, "locked": 1,
    }  # fmt: skip


def test_suspending_a_user_through_the_api_moves_them_between_counts(api):
    org = OrganizationFactory()
    user, _other = UserFactory.create_batch(2, organization=org)

    response = api.post(f"/api/admin/organizations/{org.id}/users/{user.id}/suspend", {"reason": "x"})

    assert response.status_code == 200, response.content
    users = org_stats(api, org)["users"]
    assert (users["active"], users["suspended"], users["total"]) == (1, 1, 2)


def test_deleting_users_takes_them_out_of_the_counts(api):
    org = OrganizationFactory()
    UserFactory.create_batch(4, organization=org)

    User.objects.filter(organization=org).order_by("email")[:1].get().delete()

    assert org_stats(api, org)["users"]["total"] == 3


def test_a_set_based_update_of_many_users_is_counted_once_per_row(api):
    org = OrganizationFactory()
    UserFactory.create_batch(50, organization=org)

    User.objects.filter(organization=org).update(status="inactive")

    users = org_stats(api, org)["users"]
    assert (users["active"], users["inactive"], users["total"]) == (0, 50, 50)


def test_organization_stats_count_its_clients_by_status(api):
    org = OrganizationFactory()
    app = Application.objects.create(name="Shop", slug="shop")
    for n, status in enumerate(["active", "active", "revoked"]):
        OAuthClient.objects.create(
            organization=org, application=app, client_id=f"c{n}", client_name="C", client_type="public",
            application_type="native", status=status,
        )  # fmt: skip

    assert org_stats(api, org)["clients"] == {"total": 3, "active": 2, "inactive": 0, "revoked": 1}


def test_overview_counts_organizations_and_applications_by_status(api):
    before = overview(api)
    OrganizationFactory(status="suspended")
    OrganizationFactory(status="archived")
    Application.objects.create(name="Old", slug="old", status="archived")

    after = overview(api)

    assert after["organizations"]["total"] == before["organizations"]["total"] + 2
    assert after["organizations"]["suspended"] == before["organizations"]["suspended"] + 1
    assert after["organizations"]["archived"] == before["organizations"]["archived"] + 1
    assert after["applications"]["archived"] == before["applications"]["archived"] + 1


def test_overview_equals_counting_every_table(api):
    org = OrganizationFactory()
    UserFactory.create_batch(5, organization=org, status="suspended")
    UserFactory.create_batch(2)

    body = overview(api)

    assert body["users"]["total"] == User.objects.count()
    assert body["users"]["suspended"] == User.objects.filter(status="suspended").count()
    assert body["organizations"]["total"] == Organization.objects.count()
    assert body["clients"]["total"] == OAuthClient.objects.count()
    assert body["applications"]["total"] == Application.objects.count()


# -- windows ---------------------------------------------------------------------------------------


def test_new_users_are_counted_in_the_windows_their_creation_falls_in(api):
    org = OrganizationFactory()
    now = timezone.now()
    for days in (0, 3, 10, 40):
        UserFactory(organization=org, created_at=now - dt.timedelta(days=days))

    users = org_stats(api, org)["users"]

    assert (users["newLast7d"], users["newLast30d"], users["total"]) == (2, 3, 4)


def test_a_login_makes_a_user_active_and_counts_as_a_successful_login(api, tenant_user):
    assert login(Client(), tenant_user, TENANT_PASSWORD) == 200

    body = org_stats(api, tenant_user.organization)

    assert body["users"]["activeLast30d"] == 1
    assert body["loginActivity"]["last24h"] == {"successful": 1, "failed": 0}


def test_a_wrong_password_counts_as_a_failed_login(api, tenant_user):
    assert login(Client(), tenant_user, "wrong-password") == 400

    activity = org_stats(api, tenant_user.organization)["loginActivity"]

    assert activity["last24h"] == {"successful": 0, "failed": 1}
    assert activity["last30d"] == {"successful": 0, "failed": 1}


def test_a_user_logging_in_twice_is_one_active_user(api, tenant_user):
    for _ in range(2):
        assert login(Client(), tenant_user, TENANT_PASSWORD) == 200

    body = org_stats(api, tenant_user.organization)

    assert body["users"]["activeLast30d"] == 1
    assert body["loginActivity"]["last7d"]["successful"] == 2


def test_a_last_login_older_than_thirty_days_is_not_active(api):
    org = OrganizationFactory()
    UserFactory(organization=org, last_login=timezone.now() - dt.timedelta(days=31))
    UserFactory(organization=org, last_login=timezone.now() - dt.timedelta(days=29))

    assert org_stats(api, org)["users"]["activeLast30d"] == 1


# -- the tallies ------------------------------------------------------------------------------------


def _mixed_writes(tenant_user) -> Organization:
    org = tenant_user.organization
    now = timezone.now()
    UserFactory.create_batch(3, organization=org, created_at=now - dt.timedelta(days=5))
    UserFactory(organization=org, last_login=now - dt.timedelta(hours=30))
    User.objects.filter(organization=org, email__startswith="user").update(status="locked")
    User.objects.filter(organization=org, status="locked").order_by("email")[:1].get().delete()
    login(Client(), tenant_user, TENANT_PASSWORD)
    login(Client(), tenant_user, "wrong-password")
    OrganizationFactory(status="suspended")
    return org


def test_the_tallies_equal_counting_the_rows(api, tenant_user):
    org = _mixed_writes(tenant_user)

    assert tallied_now(org.id) == counted_now(org.id)
    assert tallied_now() == counted_now()


def test_folding_the_deltas_keeps_the_numbers_and_empties_the_deltas(tenant_user):
    org = _mixed_writes(tenant_user)
    assert TallyDelta.objects.exists()

    folded = services.tallies_compact()

    assert folded > 0
    assert not TallyDelta.objects.exists()
    assert tallied_now(org.id) == counted_now(org.id)
    assert tallied_now() == counted_now()


def test_a_read_folds_the_deltas_when_no_fold_ran_recently(api, tenant_user):
    org = _mixed_writes(tenant_user)

    org_stats(api, org)

    assert not TallyDelta.objects.exists()


def test_rows_that_existed_before_the_triggers_are_counted_by_the_migration(api, tenant_user):
    org = _mixed_writes(tenant_user)
    migration = importlib.import_module("stats.migrations.0002_tally_triggers")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM stats_tally; DELETE FROM stats_tallydelta")
        for name in migration.SOURCES:
            cursor.execute(migration.backfill_sql(name))

    assert tallied_now(org.id) == counted_now(org.id)
    assert tallied_now() == counted_now()


# -- caching, health, tenancy -----------------------------------------------------------------------


def test_a_report_is_served_from_the_cache_within_its_lifetime(api, settings):
    settings.PORTA_STATS_CACHE_TTL = 60
    org = OrganizationFactory()
    first = api.get(f"{STATS}/organization/{org.id}")
    UserFactory(organization=org)

    second = api.get(f"{STATS}/organization/{org.id}")

    assert second.json() == first.json()
    assert second["Cache-Control"] == "private, max-age=60"


def test_each_organization_is_cached_under_its_own_report(api, settings):
    settings.PORTA_STATS_CACHE_TTL = 60
    first, second = OrganizationFactory(), OrganizationFactory()
    UserFactory(organization=second)
    org_stats(api, first)

    body = org_stats(api, second)

    assert (body["organizationId"], body["users"]["total"]) == (str(second.id), 1)


def test_without_a_cache_lifetime_every_report_is_fresh(api):
    org = OrganizationFactory()
    org_stats(api, org)
    UserFactory(organization=org)

    assert org_stats(api, org)["users"]["total"] == 1


def test_overview_reports_the_health_of_the_database_and_redis(api, settings):
    health = overview(api)["systemHealth"]

    assert health["database"] == "ok"
    assert health["redis"] == ("ok" if settings.REDIS_URL else "not configured")


def test_an_organization_is_named_by_its_slug_too(api):
    org = OrganizationFactory(slug="acme-stats")

    response = api.get(f"{STATS}/organization/acme-stats")

    assert response.status_code == 200
    assert response.json()["organizationId"] == str(org.id)


@pytest.fixture
def scoped(api) -> tuple[ApiClient, Organization]:
    home = OrganizationFactory(slug="stats-home")
    minted = api.post(
        "/api/admin/api-keys",
        {"name": "Scoped", "organizationId": str(home.id), "roles": ["porta-org-admin"]},
    )
    assert minted.status_code == 201, minted.content
    return ApiClient(Client(), minted.json()["secret"]), home


def test_an_organization_scoped_key_reads_its_own_organization(scoped):
    client, home = scoped
    UserFactory(organization=home)

    response = client.get(f"{STATS}/organization/{home.id}")

    assert response.status_code == 200
    assert response.json()["users"]["total"] == 1


def test_an_organization_scoped_key_gets_404_for_another_organization(scoped):
    client, _home = scoped
    other = OrganizationFactory()

    response = client.get(f"{STATS}/organization/{other.id}")

    assert response.status_code == 404
    assert response.json()["message"] == "Organization not found"


def test_an_organization_scoped_key_gets_403_on_the_overview(scoped):
    client, _home = scoped

    response = client.get(f"{STATS}/overview")

    assert response.status_code == 403
    assert response.json()["error"] == "Forbidden"


class TestStatsPermissions(PermissionSuite):
    viewsets = (StatsViewSet,)
    endpoints = (
        Endpoint("GET", f"{STATS}/overview", "admin:stats:read", expect=200),
        Endpoint("GET", f"{STATS}/organization/{{orgId}}", "admin:stats:read", expect=200),
    )

    @pytest.fixture
    def path_params(self, initialized) -> dict[str, str]:
        return {"orgId": str(OrganizationFactory().id)}


def test_an_auditor_browses_the_tallies_in_the_django_admin(api, make_admin):
    services.tallies_compact()
    client = Client()
    client.force_login(make_admin("porta-auditor"))

    response = client.get("/admin/stats/tally/", {"q": "users"})

    assert response.status_code == 200
    assert "users" in response.content.decode()
