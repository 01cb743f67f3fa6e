"""Test urlconf: Porta's routes plus one that starts a ``testing.count`` job the way bulk, export
and import views do (jobs.api.responses.enqueue_job)."""

from django.urls import include, path

from jobs.api.responses import enqueue_job
from jobs.models import Job
from porta.api.viewsets import PortaViewSet


class CountJobViewSet(PortaViewSet):
    queryset = Job.objects.all()
    organization_field = "organization_id"
    permission_map = {"create": "admin:job:read"}

    def create(self, request):
        organization_id = request.data.get("organizationId")
        return enqueue_job(
            self, kind="testing.count", parameters={"items": 3}, organization_id=organization_id
        )


urlpatterns = [
    path("api/admin/testing/count", CountJobViewSet.as_view({"post": "create"})),
    path("", include("porta.urls")),
]
