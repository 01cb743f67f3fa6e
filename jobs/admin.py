from django.contrib import admin

from jobs import services
from jobs.api.views import JobViewSet
from jobs.models import Job
from porta.api.modeladmin import ApiPermissionActions, ReadOnlyModelAdmin, apply_to_each


def cancel_selected(modeladmin, request, queryset):
    apply_to_each(
        modeladmin,
        request,
        queryset,
        lambda actor, job: services.job_cancel(actor=actor, job=job),
        name=lambda job: f"{job.kind} {job.id}",
        done="cancel: {} job(s) cancelled",
    )


cancel_selected.short_description = "Cancel selected jobs"
cancel_selected.api_permission = JobViewSet.permission_map["cancel"]


@admin.register(Job)
class JobAdmin(ApiPermissionActions, ReadOnlyModelAdmin):
    """Browse jobs; the one change offered is the API's cancel (through the same service)."""

    list_display = (
        "created_at",
        "kind",
        "status",
        "progress_done",
        "progress_total",
        "actor_label",
        "finished_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("=id", "kind", "actor_label", "=organization_id", "=request_id")
    ordering = ("-created_at",)
    show_full_result_count = False
    actions = [cancel_selected]
    #: The checkpoint is the handler's own bookkeeping; the file is downloaded through the API
    #: (GET /api/admin/jobs/{id}/download, which checks the caller's organization), never by a
    #: storage URL here (a bucket's would be a presigned link past every check).
    exclude = ("state", "file")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields if field.name not in self.exclude]
