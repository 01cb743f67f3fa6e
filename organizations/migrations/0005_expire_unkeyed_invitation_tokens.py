"""Invitation tokens were hashed with plain SHA-256; they are now keyed hashes (porta.core.onetime).

A migration cannot rehash tokens it never saw, so the open invitations of before are expired
rather than kept working beside the new scheme: their links were stored readable in
courier_message (and so in every backup taken until now), which makes them disclosed. Admins
invite again (POST .../users/invite) to send a fresh link.
"""

from django.db import migrations
from django.utils import timezone

from porta.core.ids import uuid7


def expire_open_invitations(apps, schema_editor):
    Invitation = apps.get_model("organizations", "Invitation")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    now = timezone.now()
    open_invitations = Invitation.objects.filter(used_at__isnull=True, expires_at__gt=now)
    AuditEntry.objects.bulk_create(
        AuditEntry(
            id=uuid7(),
            event_type="user.invite.expired",
            actor_type="system",
            actor_label="migration organizations.0005",
            organization_id=invitation.organization_id,
            target_type="user",
            target_id=str(invitation.user_id),
            metadata={"invitationId": str(invitation.id), "reason": "unkeyed token hash"},
        )
        for invitation in open_invitations.iterator()
    )
    open_invitations.update(expires_at=now)


class Migration(migrations.Migration):

    dependencies = [
        ("organizations", "0004_invitation_pre_assignments"),
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(expire_open_invitations, migrations.RunPython.noop, elidable=True),
    ]
