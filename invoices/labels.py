"""Words printed on invoice documents and e-mails, per language (no gettext catalogs to compile).

Placeholders use str.format: {days}, {number}, {seller}, {customer}, {amount}, {due_date}.
"""

DEFAULT_LANGUAGE = "en"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "fx_note": (
            "Amounts converted from {source} at 1 {source} = {rate} {target} (rate of {date})."
        ),
        "credit_note": "Credit note",
        "credited_invoice": "Credits invoice",
        "reason": "Reason",
        "credited_as_credit": "Credited to your balance",
        "refunded": "Refunded",
        "offset": "Offset against the invoice",
        "invoice": "Invoice",
        "draft": "DRAFT",
        "voided": "VOIDED",
        "invoice_number": "Invoice number",
        "issuing_date": "Issue date",
        "payment_due_date": "Payment due date",
        "payment_terms": "Payment terms",
        "net_days": "Net {days} days",
        "due_on_receipt": "Due on receipt",
        "from": "From",
        "bill_to": "Bill to",
        "tax_id": "Tax ID",
        "email": "Email",
        "billing_period": "Billing period",
        "item": "Item",
        "units": "Units",
        "unit_price": "Unit price",
        "amount": "Amount",
        "coupons": "Coupons",
        "progressive_billing_credit": "Progressive billing credit",
        "subtotal_excluding_taxes": "Subtotal (excl. taxes)",
        "taxes": "Taxes",
        "total": "Total (incl. taxes)",
        "credit_notes": "Credit notes",
        "prepaid_credits": "Prepaid credits",
        "amount_due": "Amount due",
        "fee_subscription": "Subscription fee",
        "fee_charge": "Usage charge",
        "fee_commitment": "Minimum commitment true-up",
        "fee_add_on": "Add-on",
        "fee_fixed_charge": "Fixed charge",
        "fee_credit": "Credits",
        "tier_range": "Units {low} \u2013 {high}",
        "tier_above": "Units from {low}",
        "tier_flat": "Flat fee ({range})",
        "volume_units": "All units, at their tier's price",
        "volume_flat": "Flat fee for all units",
        "package_free": "Free units",
        "package_paid": "Paid units, per package of {size}",
        "percentage_free": "Free units ({events} free events)",
        "percentage_rate": "Rate on the paid amount",
        "percentage_fixed": "Fixed fee per transaction",
        "percentage_adjustment": "Per-transaction minimum/maximum adjustment",
        "prorated_line": "{units} \u00d7 {days}/{period_days} days \u00d7 {price}",
        "email_subject": "Invoice {number} from {seller}",
        "email_body": (
            "Hello {customer},\n\n"
            "Please find attached invoice {number} for {amount}, due on {due_date}.\n\n"
            "Thank you,\n{seller}\n"
        ),
    },
    "fr": {
        "fx_note": (
            "Montants convertis depuis {source} au taux "
            "1 {source} = {rate} {target} (taux du {date})."
        ),
        "credit_note": "Avoir",
        "credited_invoice": "Avoir sur la facture",
        "reason": "Motif",
        "credited_as_credit": "Crédité sur votre solde",
        "refunded": "Remboursé",
        "offset": "Déduit de la facture",
        "invoice": "Facture",
        "draft": "BROUILLON",
        "voided": "ANNULÉE",
        "invoice_number": "Numéro de facture",
        "issuing_date": "Date d'émission",
        "payment_due_date": "Date d'échéance",
        "payment_terms": "Conditions de paiement",
        "net_days": "Paiement à {days} jours",
        "due_on_receipt": "Payable à réception",
        "from": "Émetteur",
        "bill_to": "Facturé à",
        "tax_id": "N° de TVA",
        "email": "E-mail",
        "billing_period": "Période de facturation",
        "item": "Article",
        "units": "Unités",
        "unit_price": "Prix unitaire",
        "amount": "Montant",
        "coupons": "Coupons",
        "progressive_billing_credit": "Crédit de facturation progressive",
        "subtotal_excluding_taxes": "Sous-total (HT)",
        "taxes": "Taxes",
        "total": "Total (TTC)",
        "credit_notes": "Avoirs",
        "prepaid_credits": "Crédits prépayés",
        "amount_due": "Montant dû",
        "fee_subscription": "Abonnement",
        "fee_charge": "Consommation",
        "fee_commitment": "Régularisation de l'engagement minimum",
        "fee_add_on": "Supplément",
        "fee_fixed_charge": "Frais fixes",
        "fee_credit": "Crédits",
        "tier_range": "Unit\u00e9s {low} \u2013 {high}",
        "tier_above": "Unit\u00e9s \u00e0 partir de {low}",
        "tier_flat": "Forfait ({range})",
        "volume_units": "Toutes les unit\u00e9s, au prix de leur palier",
        "volume_flat": "Forfait pour toutes les unit\u00e9s",
        "package_free": "Unit\u00e9s gratuites",
        "package_paid": "Unit\u00e9s payantes, par lot de {size}",
        "percentage_free": "Unit\u00e9s gratuites ({events} \u00e9v\u00e9nements gratuits)",
        "percentage_rate": "Taux sur le montant payant",
        "percentage_fixed": "Frais fixes par transaction",
        "percentage_adjustment": "Ajustement minimum/maximum par transaction",
        "prorated_line": "{units} \u00d7 {days}/{period_days} jours \u00d7 {price}",
        "email_subject": "Facture {number} de {seller}",
        "email_body": (
            "Bonjour {customer},\n\n"
            "Veuillez trouver ci-joint la facture {number} d'un montant de {amount}, "
            "à régler avant le {due_date}.\n\n"
            "Merci,\n{seller}\n"
        ),
    },
    "de": {
        "fx_note": (
            "Beträge umgerechnet aus {source} zum Kurs "
            "1 {source} = {rate} {target} (Kurs vom {date})."
        ),
        "credit_note": "Gutschrift",
        "credited_invoice": "Gutschrift zur Rechnung",
        "reason": "Grund",
        "credited_as_credit": "Ihrem Guthaben gutgeschrieben",
        "refunded": "Erstattet",
        "offset": "Mit der Rechnung verrechnet",
        "invoice": "Rechnung",
        "draft": "ENTWURF",
        "voided": "STORNIERT",
        "invoice_number": "Rechnungsnummer",
        "issuing_date": "Rechnungsdatum",
        "payment_due_date": "Fälligkeitsdatum",
        "payment_terms": "Zahlungsbedingungen",
        "net_days": "Zahlbar innerhalb von {days} Tagen",
        "due_on_receipt": "Zahlbar sofort nach Erhalt",
        "from": "Von",
        "bill_to": "Rechnungsempfänger",
        "tax_id": "USt-IdNr.",
        "email": "E-Mail",
        "billing_period": "Abrechnungszeitraum",
        "item": "Position",
        "units": "Menge",
        "unit_price": "Einzelpreis",
        "amount": "Betrag",
        "coupons": "Gutscheine",
        "progressive_billing_credit": "Gutschrift aus progressiver Abrechnung",
        "subtotal_excluding_taxes": "Zwischensumme (netto)",
        "taxes": "Steuern",
        "total": "Gesamt (brutto)",
        "credit_notes": "Gutschriften",
        "prepaid_credits": "Vorausbezahltes Guthaben",
        "amount_due": "Fälliger Betrag",
        "fee_subscription": "Grundgebühr",
        "fee_charge": "Nutzungsgebühr",
        "fee_commitment": "Ausgleich der Mindestabnahme",
        "fee_add_on": "Zusatzleistung",
        "fee_fixed_charge": "Fixgebühr",
        "fee_credit": "Guthaben",
        "tier_range": "Einheiten {low} \u2013 {high}",
        "tier_above": "Einheiten ab {low}",
        "tier_flat": "Pauschale ({range})",
        "volume_units": "Alle Einheiten zum Preis ihrer Stufe",
        "volume_flat": "Pauschale f\u00fcr alle Einheiten",
        "package_free": "Freie Einheiten",
        "package_paid": "Bezahlte Einheiten, je Paket von {size}",
        "percentage_free": "Freie Einheiten ({events} freie Ereignisse)",
        "percentage_rate": "Satz auf den bezahlten Betrag",
        "percentage_fixed": "Fixgeb\u00fchr pro Transaktion",
        "percentage_adjustment": "Mindest-/H\u00f6chstbetrag-Anpassung pro Transaktion",
        "prorated_line": "{units} \u00d7 {days}/{period_days} Tage \u00d7 {price}",
        "email_subject": "Rechnung {number} von {seller}",
        "email_body": (
            "Guten Tag {customer},\n\n"
            "anbei erhalten Sie die Rechnung {number} über {amount}, "
            "fällig am {due_date}.\n\n"
            "Vielen Dank,\n{seller}\n"
        ),
    },
}


def label(locale: str, key: str, **values) -> str:
    """The word for `key` in the locale's language ("fr_CA" → fr), else English, else the key."""
    language = (locale or DEFAULT_LANGUAGE).replace("-", "_").split("_")[0].lower()
    text = LABELS.get(language, {}).get(key) or LABELS[DEFAULT_LANGUAGE].get(key, key)
    return text.format(**values) if values else text
