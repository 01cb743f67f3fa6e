"""``porta_jobs{status=…}``: jobs by status, counted in the database when Prometheus scrapes (the
row is the truth; a counter per process could not know what other workers finished)."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from jobs.models import Job, JobStatus

logger = logging.getLogger("porta.jobs")
NAME = "porta_jobs"


class JobsByStatusCollector:
    def describe(self):
        # Named without a query, so registering it touches no database.
        return [GaugeMetricFamily(NAME, "Jobs by status", labels=["status"])]

    def collect(self):
        try:
            counts = dict(Job.objects.values_list("status").annotate(n=Count("id")).order_by())
        except DatabaseError:
            logger.warning("Cannot count jobs for the metrics: the database is unavailable")
            return
        family = GaugeMetricFamily(NAME, "Jobs by status", labels=["status"])
        for status in JobStatus.values:
            family.add_metric([status], counts.get(status, 0))
        yield family
