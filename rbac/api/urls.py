"""The routes rbac adds under other apps' resources (a user's roles), included by the root
admin API urls. Their names keep the user routes' prefix (``org-user-roles``)."""

from porta.api.routers import PortaRouter
from rbac.api.user_role_views import OrganizationUserRoleViewSet, UserRoleViewSet

router = PortaRouter()
router.register(
    r"organizations/(?P<organization_id>[^/]+)/users/(?P<pk>[^/]+)",
    OrganizationUserRoleViewSet,
    basename="org-user",
)
router.register(r"users/(?P<pk>[^/]+)", UserRoleViewSet, basename="user")

urlpatterns = router.urls
