"""python manage.py organization [--name …] [--country DE] [--tax-id …] [--base-currency EUR]
[--us-tax-states CA,NY] [--invoice-prefix INV] [--timezone …] [--grace-days N]: the seller."""

from django.core.management.base import BaseCommand, CommandError

from core.errors import ValidationFailed
from core.services import organization_update


class Command(BaseCommand):
    help = "Show or change the organization profile (the seller on every invoice)."

    def add_arguments(self, parser):
        for option in (
            "name",
            "legal-name",
            "country",
            "tax-id",
            "base-currency",
            "timezone",
            "invoice-prefix",
            "email",
            "address-line1",
            "city",
            "zipcode",
            "us-tax-states",
            "document-locale",
        ):
            parser.add_argument(f"--{option}")
        parser.add_argument("--grace-days", type=int)
        parser.add_argument("--net-payment-term", type=int)

    def handle(self, *args, **options):
        fields = {
            "name": options["name"],
            "legal_name": options["legal_name"],
            "country": options["country"],
            "tax_identification_number": options["tax_id"],
            "default_currency": options["base_currency"],
            "timezone": options["timezone"],
            "invoice_prefix": options["invoice_prefix"],
            "email": options["email"],
            "address_line1": options["address_line1"],
            "city": options["city"],
            "zipcode": options["zipcode"],
            "document_locale": options["document_locale"],
            "invoice_grace_period": options["grace_days"],
            "net_payment_term": options["net_payment_term"],
        }
        if options["us_tax_states"] is not None:
            states = options["us_tax_states"].split(",")
            fields["us_tax_states"] = [s.strip().upper() for s in states if s.strip()]
        try:
            organization = organization_update(
                data={k: v for k, v in fields.items() if v is not None}
            )
        except ValidationFailed as exc:
            raise CommandError(f"invalid: {exc.errors}") from exc
        for field in (
            "name",
            "legal_name",
            "country",
            "tax_identification_number",
            "default_currency",
            "timezone",
            "invoice_prefix",
            "us_tax_states",
            "invoice_grace_period",
            "net_payment_term",
            "document_locale",
        ):
            self.stdout.write(f"{field}: {getattr(organization, field)}")
