"""The /api/v1 router. Each app registers its viewsets here; no trailing slashes (Lago)."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter(trailing_slash=False)

urlpatterns = router.urls
