"""The one one-time-token primitive (porta.core.onetime) behind invitation and recovery links: keyed
hashes, single use under concurrency, and the expiry of invitation tokens hashed the old way."""

from __future__ import annotations

import datetime
import hashlib
import re
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit.models import AuditEntry
from courier.models import Message
from organizations.models import Invitation, Organization, User
from porta.core import onetime
from porta.core.tokens import keyed_hash

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(initialized) -> Organization:
    return Organization.objects.create(name="Acme", slug="acme")


def _invite(api, org: Organization) -> str:
    """Invite through the API; the token from the link the e-mail carries."""
    response = api.post(f"/api/admin/organizations/{org.id}/users/invite", {"email": "new@acme.example"})
    assert response.status_code == 201, response.content
    body = Message.objects.get(recipient="new@acme.example").body_text
    return re.search(r"/auth/accept-invite/([A-Za-z0-9_-]+)", body).group(1)


def _open_invitation(org: Organization, *, token_hash: str, expires_in: datetime.timedelta) -> Invitation:
    user = User.objects.create(organization=org, email=f"{token_hash[:8]}@acme.example")
    return Invitation.objects.create(
        organization=org, user=user, token_hash=token_hash, expires_at=timezone.now() + expires_in
    )


def test_an_invitation_token_is_stored_as_its_keyed_hash(api, org):
    token = _invite(api, org)
    stored = Invitation.objects.get().token_hash
    assert stored == keyed_hash(token)
    assert stored != hashlib.sha256(token.encode()).hexdigest()


def test_a_token_is_found_by_its_keyed_hash_only(org):
    new = onetime.issue(datetime.timedelta(hours=1))
    _open_invitation(org, token_hash=new.token_hash, expires_in=datetime.timedelta(hours=1))
    assert onetime.find(Invitation.objects.all(), new.token) is not None
    assert onetime.find(Invitation.objects.all(), new.token_hash) is None


def test_a_token_is_spent_once(org):
    invitation = _open_invitation(org, token_hash=keyed_hash("t"), expires_in=datetime.timedelta(hours=1))
    rows = Invitation.objects.filter(pk=invitation.pk)
    assert onetime.spend(rows) is not None
    assert onetime.spend(rows) is None


def test_an_expired_token_cannot_be_spent(org):
    invitation = _open_invitation(org, token_hash=keyed_hash("t"), expires_in=-datetime.timedelta(seconds=1))
    assert onetime.spend(Invitation.objects.filter(pk=invitation.pk)) is None
    invitation.refresh_from_db()
    assert invitation.used_at is None


@pytest.mark.django_db(transaction=True)
def test_of_two_concurrent_spends_only_one_succeeds(initialized):
    org = Organization.objects.create(name="Acme", slug="acme")
    invitation = _open_invitation(org, token_hash=keyed_hash("t"), expires_in=datetime.timedelta(hours=1))
    rows = Invitation.objects.filter(pk=invitation.pk)
    results: dict[str, object] = {}
    first_spent, commit_first = threading.Event(), threading.Event()

    def first() -> None:
        try:
            with transaction.atomic():
                results["first"] = onetime.spend(rows)
                first_spent.set()
                commit_first.wait(timeout=30)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            results["second"] = onetime.spend(rows)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert first_spent.wait(timeout=30)
    threads[1].start()
    _wait_until_a_backend_waits_for_a_lock()  # the second UPDATE blocks on the first's row lock
    commit_first.set()
    for thread in threads:
        thread.join(timeout=30)
    assert results["first"] is not None
    assert results["second"] is None


def _wait_until_a_backend_waits_for_a_lock() -> None:
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second spend never waited for the row lock")


@pytest.mark.django_db(transaction=True)
def test_upgrading_expires_open_invitations_hashed_with_plain_sha256(initialized):
    org = Organization.objects.create(name="Acme", slug="acme")
    legacy = hashlib.sha256(b"legacy-token").hexdigest()
    before = [("organizations", "0004_invitation_pre_assignments")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        # The rows are written as that schema had them: today's models have columns added since.
        old = executor.loader.project_state(before).apps
        user = old.get_model("organizations", "User").objects.create(
            organization_id=org.id, email="legacy@acme.example"
        )
        old.get_model("organizations", "Invitation").objects.create(
            organization_id=org.id,
            user_id=user.id,
            token_hash=legacy,
            expires_at=timezone.now() + datetime.timedelta(days=7),
        )
    finally:
        # Forward again whatever happened, so no later test meets the old schema.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    invitation = Invitation.objects.get(token_hash=legacy)
    assert invitation.expires_at <= timezone.now()
    expiry = AuditEntry.objects.filter(event_type="user.invite.expired", target_id=str(invitation.user_id))
    assert expiry.exists()
