"""The site's URLs plus the wallet routes (registered in api_urls.py by the site)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from billing_site.urls import urlpatterns as site_urlpatterns
from customers.api_wallets import WalletTransactionViewSet, WalletViewSet

router = SimpleRouter(trailing_slash=False)
router.register("wallets", WalletViewSet, basename="wallet")
router.register("wallet_transactions", WalletTransactionViewSet, basename="wallet_transaction")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("", include(site_urlpatterns)),
]
