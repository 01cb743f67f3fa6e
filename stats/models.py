"""Running tallies behind ``/stats``: counts kept up to date by PostgreSQL triggers, so no request
counts a million users.

The triggers (migration 0001) fire once per statement on users, organizations, applications,
clients and audit entries, and append what the statement changed to ``TallyDelta`` (inserts
only: writers never wait on each other's counter rows). ``stats.services.tallies_compact`` folds
the deltas into ``Tally``, one row per (scope, metric, label, hour), every minute. A read sums
the ``Tally`` rows of its scope and window plus the deltas not yet folded.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import models

#: The scope of the tallies across all organizations.
ALL_ORGANIZATIONS = uuid.UUID(int=0)
#: The bucket of the metrics that are not time series (counts by status).
NO_BUCKET = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class Metric(models.TextChoices):
    ORGANIZATIONS = "organizations"  # by status; all-organizations scope only
    APPLICATIONS = "applications"  # by status; all-organizations scope only
    CLIENTS = "clients"  # by status
    USERS = "users"  # by status
    USERS_CREATED = "users.created"  # hour of created_at
    USERS_LAST_LOGIN = "users.lastLogin"  # hour of each user's last login
    LOGINS_SUCCEEDED = "logins.succeeded"  # hour of each user.login audit entry
    LOGINS_FAILED = "logins.failed"  # hour of each user.login.failed audit entry


class _TallyRow(models.Model):
    organization_id = models.UUIDField(editable=False)
    metric = models.CharField(max_length=40, choices=Metric.choices, editable=False)
    label = models.CharField(max_length=40, blank=True, default="", editable=False)
    bucket = models.DateTimeField(default=NO_BUCKET, editable=False)
    n = models.BigIntegerField(editable=False)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        label = f"[{self.label}]" if self.label else ""
        bucket = "" if self.bucket == NO_BUCKET else f" @ {self.bucket:%Y-%m-%d %H:00}"
        return f"{self.metric}{label}{bucket} = {self.n}"


class Tally(_TallyRow):
    """The folded count of one metric in one scope (an organization or ``ALL_ORGANIZATIONS``),
    label (a status) and hour (``NO_BUCKET`` for counts by status)."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization_id", "metric", "label", "bucket"], name="stats_tally_key"
            )
        ]
        verbose_name_plural = "tallies"


class TallyDelta(_TallyRow):
    """A change to a tally, appended by a trigger and not yet folded into ``Tally``."""

    id = models.BigAutoField(primary_key=True)

    class Meta:
        indexes = [models.Index(fields=["organization_id"], name="stats_delta_org_idx")]
