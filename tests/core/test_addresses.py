"""Addresses are written the way each country writes them (issue 18: a US address printed the
ZIP code before the city). Layouts from Google's address data, bundled: no network."""

import pytest

from core.addresses import address_lines


@pytest.mark.parametrize(
    ("fields", "locale", "expected"),
    [
        (  # city, state ZIP on one line
            {
                "address_line1": "1 Market Street",
                "address_line2": "Suite 300",
                "city": "San Francisco",
                "state": "CA",
                "zipcode": "94105",
                "country": "US",
            },
            "en",
            ["1 Market Street", "Suite 300", "San Francisco, CA 94105", "United States"],
        ),
        (  # postal code before the city, the country's name in the document's language
            {
                "address_line1": "10 rue de la Paix",
                "city": "Paris",
                "zipcode": "75002",
                "country": "FR",
            },
            "fr",
            ["10 rue de la Paix", "75002 Paris", "France"],
        ),
        (
            {
                "address_line1": "Unter den Linden 1",
                "city": "Berlin",
                "zipcode": "10117",
                "country": "DE",
            },
            "de",
            ["Unter den Linden 1", "10117 Berlin", "Deutschland"],
        ),
        (  # town and postcode on lines of their own
            {
                "address_line1": "10 Downing Street",
                "city": "London",
                "zipcode": "SW1A 2AA",
                "country": "GB",
            },
            "en",
            ["10 Downing Street", "London", "SW1A 2AA", "United Kingdom"],
        ),
        (  # Latin script: street (the ward with it), prefecture, then the postal code
            {
                "address_line1": "1-1 Chiyoda",
                "city": "Chiyoda-ku",
                "state": "Tokyo",
                "zipcode": "100-0001",
                "country": "JP",
            },
            "en",
            ["1-1 Chiyoda", "Chiyoda-ku, Tokyo", "100-0001", "Japan"],
        ),
    ],
)
def test_each_country_writes_its_addresses_its_own_way(fields, locale, expected):
    assert address_lines(**fields, locale=locale) == expected


def test_a_missing_field_takes_its_separator_along():
    lines = address_lines(
        address_line1="1 Market Street", state="CA", zipcode="94105", country="US"
    )
    assert lines == ["1 Market Street", "CA 94105", "United States"]


def test_nothing_entered_is_lost_where_the_layout_has_no_place_for_it():
    # Germany has no state line: a state typed anyway is still printed
    lines = address_lines(city="Munich", zipcode="80331", state="Bayern", country="DE")
    assert lines == ["80331 Munich", "Bayern", "Germany"]


def test_no_or_unknown_country_keeps_a_plain_layout():
    assert address_lines(address_line1="Main St 1", city="Town", zipcode="123") == [
        "Main St 1",
        "123 Town",
    ]
    assert address_lines(city="Town", zipcode="123", country="XX") == ["123 Town", "XX"]
