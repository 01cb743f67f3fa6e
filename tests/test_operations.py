"""Health, readiness, metrics and the Django admin for operators."""

from __future__ import annotations

from django.test import Client

from audit.models import AuditEntry
from organizations.models import Organization
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.factories import OrganizationFactory


def test_alive_answers_ok(anonymous):
    response = anonymous.get("/health/alive")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_reports_every_check(anonymous, db):
    response = anonymous.get("/health/ready")
    assert response.status_code == 200
    checks = {"database": "ok", "redis": "ok", "migrations": "ok"}
    assert response.json() == {"status": "ok", "checks": checks}


def test_ready_is_503_naming_redis_when_redis_is_unreachable(anonymous, db, settings):
    from testing.servers import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = anonymous.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "error"
    assert "redis" in response.json()["message"]


def test_metrics_expose_request_and_audit_counters(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/admin/organizations", {"name": "Metered"})
    body = Client().get("/metrics/prometheus").content.decode()
    assert "porta_http_requests_total" in body
    assert 'porta_audit_writes_total{event_type="org.created"}' in body
    assert "porta_tokens_issued_total" in body


def test_the_admin_login_page_renders(db):
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    assert b"password" in response.content


def _admin_client() -> Client:
    client = Client()
    assert client.login(username=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    return client


def test_a_super_admin_signs_in_to_the_django_admin_and_browses_organizations(initialized):
    OrganizationFactory(name="Visible Org")
    response = _admin_client().get("/admin/organizations/organization/")
    assert response.status_code == 200
    assert b"Visible Org" in response.content


def test_a_tenant_user_cannot_sign_in_to_the_django_admin(db):
    from tests.factories import UserFactory

    user = UserFactory()
    assert Client().login(username=user.email, password="password-123") is False


def test_the_audit_log_is_read_only_in_the_django_admin(api):
    org = api.post("/api/admin/organizations", {"name": "Audited"}).json()
    entry = AuditEntry.objects.get(event_type="org.created", target_id=org["id"])
    client = _admin_client()
    assert client.get(f"/admin/audit/auditentry/{entry.id}/change/").status_code == 200
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    assert client.post(f"/admin/audit/auditentry/{entry.id}/delete/").status_code == 403


def test_the_django_admin_suspends_through_the_service_and_audits(initialized, super_admin):
    org = OrganizationFactory()
    response = _admin_client().post(
        "/admin/organizations/organization/",
        {"action": "suspend_selected", "_selected_action": [str(org.id)]},
    )
    assert response.status_code == 302
    assert Organization.objects.get(pk=org.id).status == "suspended"
    entry = AuditEntry.objects.get(event_type="org.suspended")
    assert entry.actor_id == super_admin.id


def test_the_django_admin_never_shows_a_password_hash(initialized, super_admin):
    response = _admin_client().get(f"/admin/organizations/user/{super_admin.id}/change/")
    assert response.status_code == 200
    assert super_admin.password.encode() not in response.content
    assert b"argon2" not in response.content


def test_a_production_start_without_its_secrets_fails_fast_naming_them(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTA_", "DATABASE_URL", "REDIS_URL"))}
    env.update({"PORTA_ENV": "production", "PORTA_DATA_DIR": str(tmp_path)})
    command = [sys.executable, "manage.py", "check"]
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    required = ["PORTA_SECRET_KEY", "PORTA_KEY_ENCRYPTION_KEY", "DATABASE_URL", "REDIS_URL"]
    required.append("PORTA_PUBLIC_URL")
    for name in required:
        assert name in result.stderr


def test_nul_characters_in_a_query_are_a_bad_request_not_a_crash(api):
    response = api.get("/api/admin/organizations", {"search": "a\x00b"})
    assert response.status_code == 400
    assert response.json()["error"] == "BadRequest"


def test_the_django_admin_is_titled_porta(db):
    assert b"Porta admin" in Client().get("/admin/login/").content
