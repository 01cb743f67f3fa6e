"""Courier messages: rendering, queued → sent through Django's e-mail backend, retry then abandon,
and the read API (filters, cursor mode, redaction)."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from audit.models import AuditEntry
from courier.api.serializers import UNREADABLE
from courier.api.views import CourierMessageViewSet
from courier.models import Attempt, Message, MessageStatus
from courier.services import backoff, message_enqueue, messages_requeue_stranded
from courier.tasks import requeue_stranded_messages
from courier.templates import render_message
from porta.core.context import Actor
from tests.factories import OrganizationFactory
from tests.test_tenancy import call, scoped_to

MESSAGES = "/api/admin/courier/messages"
REFUSING = "tests.mail_backends.RefusingBackend"


def _enqueue(recipient: str = "someone@example.com", organization_id=None, template: str = "invitation"):
    return message_enqueue(
        actor=Actor.system("test"),
        organization_id=organization_id,
        recipient=recipient,
        template=template,
        context={"organization_name": "Acme", "invitation_link": "https://porta.example/invite/abc"},
    )


@pytest.mark.parametrize("template", ["invitation", "recovery", "verification"])
def test_every_courier_template_renders_a_subject_text_and_html(template):
    subject, text, html = render_message(template, {"organization_name": "Acme"})
    assert "Acme" in subject
    assert "Acme" in text
    assert "<html>" in html


def test_an_unknown_template_is_refused():
    with pytest.raises(ValueError, match="Unknown courier template"):
        render_message("nonsense", {})


def test_an_enqueued_message_is_sent_after_commit(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.send_count == 1
    assert message.sent_at is not None
    assert [m.to for m in mail.outbox] == [["someone@example.com"]]


def test_the_sent_email_carries_the_rendered_text_and_html(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _enqueue()
    sent = mail.outbox[0]
    assert sent.subject == "You are invited to Acme"
    assert "https://porta.example/invite/abc" in sent.body
    assert sent.alternatives[0][1] == "text/html"


def test_a_message_stays_queued_until_the_transaction_commits(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        message = _enqueue()
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert mail.outbox == []


def test_enqueueing_is_audited(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        message = _enqueue()
    assert AuditEntry.objects.filter(event_type="courier.message.queued", target_id=str(message.id)).exists()


def test_a_message_already_sent_is_never_sent_twice(db, django_capture_on_commit_callbacks):
    from courier.tasks import send_message

    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue()
    send_message.delay(str(message.id))
    message.refresh_from_db()
    assert len(mail.outbox) == 1
    assert message.send_count == 1


@override_settings(EMAIL_BACKEND=REFUSING, PORTA_COURIER_MAX_ATTEMPTS=3)
def test_a_message_that_fails_to_send_is_retried_and_finally_abandoned(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue()
    message.refresh_from_db()
    assert message.status == MessageStatus.ABANDONED
    assert message.send_count == 3
    assert message.last_error == "SMTPException: relay refused the message"
    assert message.sent_at is None


@override_settings(EMAIL_BACKEND=REFUSING, PORTA_COURIER_MAX_ATTEMPTS=3)
def test_each_failed_attempt_and_the_abandonment_are_audited(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue()
    events = list(
        AuditEntry.objects.filter(target_id=str(message.id))
        .order_by("created_at")
        .values_list("event_type", flat=True)
    )
    assert events == [
        "courier.message.queued",
        "courier.message.failed",
        "courier.message.failed",
        "courier.message.abandoned",
    ]


@override_settings(EMAIL_BACKEND="tests.mail_backends.FlakyBackend")
def test_a_message_that_fails_once_is_sent_on_the_retry(db, django_capture_on_commit_callbacks):
    from tests.mail_backends import FlakyBackend

    FlakyBackend.attempts = 0
    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue()
    message.refresh_from_db()
    assert (message.status, message.send_count) == (MessageStatus.SENT, 2)
    assert message.last_error == "SMTPServerDisconnected: connection dropped"
    assert len(mail.outbox) == 1


@override_settings(PORTA_COURIER_BACKOFF=30, PORTA_BROKER_VISIBILITY_TIMEOUT=3 * 3600)
def test_the_retry_backoff_doubles_per_attempt_and_is_capped_at_one_hour():
    assert [backoff(n) for n in (1, 2, 3, 10)] == [30, 60, 120, 3600]


@override_settings(PORTA_COURIER_BACKOFF=30, PORTA_BROKER_VISIBILITY_TIMEOUT=600)
def test_the_retry_backoff_stays_below_the_broker_visibility_timeout():
    assert [backoff(n) for n in (1, 5, 10)] == [30, 300, 300]


def test_an_abandoned_message_is_not_sent_again(db):
    from courier.tasks import send_message

    message = Message.objects.create(
        recipient="x@example.com",
        template="invitation",
        subject="s",
        body_text="t",
        status=MessageStatus.ABANDONED,
    )
    send_message.delay(str(message.id))
    assert mail.outbox == []


@override_settings(EMAIL_BACKEND="tests.mail_backends.FlakyBackend")
def test_each_attempt_is_recorded_with_its_outcome(db, django_capture_on_commit_callbacks):
    from tests.mail_backends import FlakyBackend

    FlakyBackend.attempts = 0
    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue()
    attempts = list(message.attempts.values_list("number", "outcome", "error"))
    assert attempts == [(1, "failed", "SMTPServerDisconnected: connection dropped"), (2, "sent", "")]


@override_settings(EMAIL_BACKEND="tests.mail_backends.FlakyBackend")
def test_every_attempt_carries_the_same_message_id(db, django_capture_on_commit_callbacks):
    from tests.mail_backends import FlakyBackend

    FlakyBackend.attempts, FlakyBackend.tried = 0, []
    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue()
    ids = [m.message()["Message-ID"] for m in FlakyBackend.tried]
    assert ids == [f"<{message.id}@porta.local>"] * 2


@override_settings(PORTA_COURIER_MAX_ATTEMPTS=2)
def test_a_message_whose_worker_died_on_the_last_attempt_is_abandoned_not_sent(db):
    from courier.tasks import send_message

    message = Message.objects.create(
        recipient="x@example.com", template="invitation", subject="s", body_text="t",
        status=MessageStatus.PROCESSING, send_count=2,
    )  # fmt: skip
    Attempt.objects.create(message=message, number=1, started_at=message.created_at, outcome="interrupted")
    Attempt.objects.create(message=message, number=2, started_at=message.created_at)
    send_message.delay(str(message.id))
    message.refresh_from_db()
    assert (message.status, mail.outbox) == (MessageStatus.ABANDONED, [])
    assert message.attempts.get(number=2).outcome == "interrupted"


def test_message_bodies_are_stored_encrypted(db, django_capture_on_commit_callbacks):
    from django.db import connection

    with django_capture_on_commit_callbacks(execute=False):
        message = _enqueue()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM courier_message WHERE id = %s", [message.id])
        row = b"|".join(bytes(v) if isinstance(v, memoryview) else str(v).encode() for v in cursor.fetchone())
    assert b"Acme" in row  # the subject: the row was read
    assert b"invite/abc" not in row
    assert "invite/abc" in Message.objects.get(pk=message.pk).body_text


# -- API ---------------------------------------------------------------------------------------


def test_messages_are_listed_newest_first(api):
    first = _enqueue("a@example.com")
    second = _enqueue("b@example.com")
    body = api.get(MESSAGES).json()
    assert [m["id"] for m in body["data"]] == [str(second.id), str(first.id)]


def test_messages_filter_by_status(api):
    _enqueue("a@example.com")
    Message.objects.filter(recipient="a@example.com").update(status=MessageStatus.SENT)
    _enqueue("b@example.com")
    body = api.get(MESSAGES, {"status": "queued"}).json()
    assert [m["recipient"] for m in body["data"]] == ["b@example.com"]


def test_an_unknown_status_filter_is_a_400(api):
    response = api.get(MESSAGES, {"status": "lost"})
    assert response.status_code == 400
    assert "status" in response.json()["details"]


def test_messages_filter_by_recipient(api):
    _enqueue("a@example.com")
    _enqueue("b@example.com")
    body = api.get(MESSAGES, {"recipient": "B@example.com"}).json()
    assert [m["recipient"] for m in body["data"]] == ["b@example.com"]


def test_messages_support_cursor_mode(api):
    for n in range(3):
        _enqueue(f"user{n}@example.com")
    first = api.get(MESSAGES, {"limit": 2, "cursor": ""}).json()
    assert len(first["data"]) == 2
    assert first["pagination"]["hasMore"] is True
    second = api.get(MESSAGES, {"limit": 2, "cursor": first["pagination"]["nextCursor"]}).json()
    assert [m["recipient"] for m in second["data"]] == ["user0@example.com"]
    assert second["pagination"]["hasMore"] is False


@override_settings(PORTA_DEV=False)
def test_subject_and_bodies_are_redacted_outside_dev_mode(api):
    message = _enqueue()
    body = api.get(f"{MESSAGES}/{message.id}").json()
    assert (body["subject"], body["bodyText"], body["bodyHtml"]) == ("[redacted]",) * 3


@override_settings(PORTA_DEV=True)
def test_subject_and_bodies_are_shown_in_dev_mode(api):
    message = _enqueue()
    body = api.get(f"{MESSAGES}/{message.id}").json()
    assert body["subject"] == "You are invited to Acme"
    assert "https://porta.example/invite/abc" in body["bodyText"]


def test_org_scoped_credentials_see_only_their_organizations_messages(db):
    home, foreign = OrganizationFactory(), OrganizationFactory()
    for org in (home, foreign):
        _enqueue(f"user@{org.slug}.example", organization_id=org.id)
    response = call(CourierMessageViewSet, {"get": "list"}, scoped_to(home))
    assert response.status_code == 200
    assert {row["organizationId"] for row in response.data["data"]} == {str(home.id)}


def test_org_scoped_credentials_get_404_for_another_organizations_message(db):
    home, foreign = OrganizationFactory(), OrganizationFactory()
    message = _enqueue(organization_id=foreign.id)
    response = call(CourierMessageViewSet, {"get": "retrieve"}, scoped_to(home), pk=str(message.id))
    assert response.status_code == 404


def test_courier_messages_are_read_only_in_the_django_admin(initialized):
    from django.test import Client

    from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

    message = _enqueue()
    client = Client()
    assert client.login(username=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    assert client.get(f"/admin/courier/message/{message.id}/change/").status_code == 200
    assert client.get("/admin/courier/message/add/").status_code == 403


def test_the_dev_mode_view_of_a_body_sealed_under_a_dropped_key_is_not_a_500(api):
    import base64
    import secrets

    message = _enqueue()
    other_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    with override_settings(PORTA_DEV=True, PORTA_KEY_ENCRYPTION_KEYS=[other_key]):
        response = api.get(f"{MESSAGES}/{message.id}")
    assert response.status_code == 200
    assert response.json()["bodyText"] == UNREADABLE


def test_the_django_admin_shows_a_message_without_its_body(super_admin):
    from django.test import Client

    message = _enqueue()
    client = Client()
    client.force_login(super_admin)
    response = client.get(f"/admin/courier/message/{message.id}/change/")
    assert response.status_code == 200
    assert message.recipient in response.content.decode()
    assert "invite/abc" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
@override_settings(EMAIL_BACKEND="tests.mail_backends.SecondCopyBackend")
def test_a_second_copy_of_a_delivery_does_not_send_while_the_first_is_sending():
    from tests.mail_backends import SecondCopyBackend

    SecondCopyBackend.started, SecondCopyBackend.second_result = False, None
    message = _enqueue()  # committed at once: the eager task runs here
    assert len(mail.outbox) == 1
    assert SecondCopyBackend.second_result == backoff(1)  # it looks again later
    assert list(message.attempts.values_list("outcome", flat=True)) == ["sent"]


@pytest.mark.django_db(transaction=True)
def test_upgrading_encrypts_the_bodies_stored_in_plaintext_before():
    import uuid

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    MigrationExecutor(connection).migrate([("courier", "0001_initial")])
    message_id = uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO courier_message (id, created_at, updated_at, recipient, template, subject,"
            " body_text, body_html, status, send_count, last_error)"
            " VALUES (%s, now(), now(), 'a@example.com', 'invitation', 's', 'link /invite/abc', '<p>x</p>',"
            " 'queued', 0, '')",
            [message_id],
        )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    message = Message.objects.get(pk=message_id)
    assert (message.body_text, message.body_html) == ("link /invite/abc", "<p>x</p>")
    assert b"/invite/abc" not in bytes(message.body_ciphertext)


def _strand(message: Message, *, seconds_ago: int) -> None:
    """The message was queued ``seconds_ago`` and its task never reached a worker (the broker lost
    it): the on-commit dispatch was not run."""
    Message.objects.filter(pk=message.pk).update(
        updated_at=timezone.now() - datetime.timedelta(seconds=seconds_ago)
    )


@override_settings(PORTA_BROKER_VISIBILITY_TIMEOUT=600)
def test_a_message_whose_task_the_broker_lost_is_delivered_by_the_sweep(db):
    message = _enqueue()
    _strand(message, seconds_ago=601)

    assert requeue_stranded_messages.delay() is not None
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert [m.to for m in mail.outbox] == [["someone@example.com"]]


@override_settings(PORTA_BROKER_VISIBILITY_TIMEOUT=600)
def test_the_sweep_leaves_a_message_whose_task_may_still_be_in_the_broker(db):
    message = _enqueue()
    _strand(message, seconds_ago=599)

    assert messages_requeue_stranded() == 0
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert mail.outbox == []


@override_settings(PORTA_BROKER_VISIBILITY_TIMEOUT=600)
def test_the_sweep_never_sends_a_sent_message_again(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue()
    _strand(message, seconds_ago=3600)

    assert messages_requeue_stranded() == 0
    assert len(mail.outbox) == 1
