"""The invitation routes under an organization's users, included by the root admin API urls
ahead of the user routes (``users/invite`` must not be read as a user id). Their names keep the
user routes' prefix (``org-user-invite``)."""

from invitations.api.views import OrganizationInvitationViewSet
from porta.api.routers import PortaRouter

router = PortaRouter()
router.register(
    r"organizations/(?P<organization_id>[^/]+)/users", OrganizationInvitationViewSet, basename="org-user"
)

urlpatterns = router.urls
