"""The portal speaks the customer's document language; the compiled catalogs match the sources."""

import gettext
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.numbers import format_currency

LOCALE = Path(__file__).resolve().parents[2] / "locale"

pytestmark = pytest.mark.django_db


def test_a_french_customer_reads_french(client, api, at_now, world):
    url = api.get("/api/v1/customers/other/portal_url").json()["customer"]["portal_url"]
    client.get(url.removeprefix("http://127.0.0.1:8000"))
    html = client.get("/portal/").content.decode()
    assert '<html lang="fr">' in html
    assert "Factures" in html and "Invoices" not in html
    total = format_currency(
        world.other_invoice.total_amount_cents / Decimal(100), "USD", locale="fr"
    )
    assert total in client.get("/portal/invoices").content.decode()  # "100,05 $US"


@pytest.mark.parametrize("language", ["fr", "de"])
def test_compiled_catalogs_match_their_sources(language):
    folder = LOCALE / language / "LC_MESSAGES"
    with open(folder / "django.po", "rb") as source:
        catalog = read_po(source)
    with open(folder / "django.mo", "rb") as compiled:
        translations = gettext.GNUTranslations(compiled)
    for message in catalog:
        if message.id:
            assert message.string, f"{language}: untranslated {message.id!r}"
            assert translations.gettext(message.id) == message.string, message.id
