import pytest

pytestmark = pytest.mark.django_db


def test_pages_render(acme_client, world):
    for url in [
        "/portal/",
        "/portal/usage",
        "/portal/invoices",
        "/portal/credits",
        "/portal/billing-details",
        "/portal/account",
        f"/portal/invoices/{world.acme_invoice.lago_id}",
    ]:
        response = acme_client.get(url)
        assert response.status_code == 200, (url, response.content.decode()[:3000])
