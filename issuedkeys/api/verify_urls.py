"""The verification routes, included by the root admin API urls ahead of the admin API keys'
``api-keys/{id}`` routes (which would otherwise read ``verify`` as a key id and answer 405)."""

from issuedkeys.api.verify_views import IssuedApiKeyVerifyViewSet
from porta.api.routers import PortaRouter

router = PortaRouter()
router.register("api-keys", IssuedApiKeyVerifyViewSet, basename="issued-api-key")

urlpatterns = router.urls
