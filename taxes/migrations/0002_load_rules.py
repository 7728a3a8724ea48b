"""Load the bundled tax rules, so a fresh installation taxes correctly out of the box."""

import csv
from decimal import Decimal
from pathlib import Path

from django.db import migrations

RULES = Path(__file__).resolve().parent.parent / "data" / "tax_rules.csv"


def load(apps, schema_editor):
    rule_model = apps.get_model("taxes", "TaxRule")
    with RULES.open(newline="", encoding="utf-8") as source:
        for row in csv.DictReader(source):
            rule_model.objects.update_or_create(
                kind=row["kind"],
                country=row["country"],
                region=row["region"],
                effective_from=row["effective_from"],
                defaults={"rate": Decimal(row["rate"]), "name": row["name"]},
            )


class Migration(migrations.Migration):
    dependencies = [("taxes", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
