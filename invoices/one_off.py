"""One-off invoices (Lago's POST /invoices): add-on lines billed outside any subscription,
finalized at once (no grace period), never discounted by coupons.

A fee's amount is units times the unit price at full precision, rounded once by core.money.
The add-on is referenced in Fee.amount_details ({"add_on_code", "lago_add_on_id"}): fees keep
no foreign key to it, so deleting an add-on never touches past invoices.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django import forms
from django.db import transaction
from django.utils import timezone

from core.errors import BillingError, NotFound, ValidationFailed
from core.limits import (
    MAX_AMOUNT_CENTS,
    MAX_VALUE,
    MIN_NONZERO_VALUE,
    OUT_OF_RANGE,
    NotANumber,
    OutOfRange,
    strict_decimal,
)
from core.money import from_minor_units, to_minor_units
from core.validation import (
    Errors,
    check_code,
    check_currency,
    check_non_negative_int,
    parse_moment,
)
from customers.models import Customer
from customers.selectors import customer_timezone
from invoices.models import Fee, Invoice
from invoices.services.lifecycle import invoice_finalize, invoice_totals, notify, payment_term_days
from plans.models import AddOn
from plans.periods import local_date

WEBHOOK_TYPE = "invoice.one_off_created"


MAX_INVOICE_CENTS = MAX_AMOUNT_CENTS // 2  # a one-off invoice's fees, with room for taxes


@dataclass(frozen=True)
class Line:
    """One requested fee, parsed; `unit_amount_cents` None = the add-on's price."""

    add_on_code: str
    units: Decimal
    unit_amount_cents: int | None
    description: str
    invoice_display_name: str
    from_datetime: datetime | None
    to_datetime: datetime | None
    tax_codes: tuple[str, ...]


# --- parsing ---------------------------------------------------------------------------------


def _moment(value, errors: Errors, field: str) -> datetime | None:
    if value is None:
        return None
    moment = parse_moment(value)
    if moment is None or timezone.is_naive(moment):
        errors.add(field, "invalid_format")
        return None
    return moment


def _text(value, errors: Errors, field: str) -> str:
    if value is not None and not isinstance(value, str):
        errors.add(field, "invalid_format")
        return ""
    return (value or "")[:255]


def _units(value, errors: Errors, field: str) -> Decimal:
    """Positive, and inside the representable range of a fee's units (core/limits.py)."""
    try:
        units = strict_decimal(1 if value is None else value)
    except NotANumber:
        units = None
    except OutOfRange:
        errors.add(field, OUT_OF_RANGE)
        return Decimal(1)
    if units is None or units <= 0:
        errors.add(field, "value_is_invalid")
        return Decimal(1)
    if units >= MAX_VALUE or units < MIN_NONZERO_VALUE:
        errors.add(field, OUT_OF_RANGE)
    return units


def _check_amounts(lines: list[Line], add_ons: dict, currency: str) -> None:
    """Each fee and their sum must fit a bigint of minor units with room for taxes (half of
    it): 10^15 units at a large price would not. Refused before anything is written."""
    errors, total = Errors(), 0
    for index, line in enumerate(lines):
        cents = _line_cents(line, add_ons[line.add_on_code], currency)
        total += cents
        if cents > MAX_INVOICE_CENTS or total > MAX_INVOICE_CENTS:
            errors.add(f"fees.{index}.units", OUT_OF_RANGE)
    if errors:
        raise ValidationFailed(errors)


def _line_cents(line: Line, add_on: AddOn, currency: str) -> int:
    cents = add_on.amount_cents if line.unit_amount_cents is None else line.unit_amount_cents
    return to_minor_units(line.units * from_minor_units(cents, currency), currency)


def _tax_codes(value, errors: Errors, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        errors.add(field, "invalid_format")
        return ()
    return tuple(value)


def _line(index: int, raw, errors: Errors) -> Line | None:
    prefix = f"fees.{index}."
    if not isinstance(raw, dict):
        errors.add(f"fees.{index}", "invalid_format")
        return None
    raw = {key: value for key, value in raw.items() if value is not None}
    errors.add(f"{prefix}add_on_code", check_code(raw.get("add_on_code")))
    amount = raw.get("unit_amount_cents")
    if amount is not None:
        errors.add(f"{prefix}unit_amount_cents", check_non_negative_int(amount))
        if isinstance(amount, int) and amount > MAX_INVOICE_CENTS:
            errors.add(f"{prefix}unit_amount_cents", OUT_OF_RANGE)
    return Line(
        add_on_code=raw.get("add_on_code") or "",
        units=_units(raw.get("units"), errors, f"{prefix}units"),
        unit_amount_cents=amount,
        description=_text(raw.get("description"), errors, f"{prefix}description"),
        invoice_display_name=_text(
            raw.get("invoice_display_name"), errors, f"{prefix}invoice_display_name"
        ),
        from_datetime=_moment(raw.get("from_datetime"), errors, f"{prefix}from_datetime"),
        to_datetime=_moment(raw.get("to_datetime"), errors, f"{prefix}to_datetime"),
        tax_codes=_tax_codes(raw.get("tax_codes"), errors, f"{prefix}tax_codes"),
    )


def _lines(fees) -> list[Line]:
    """The fee lines of the request, all valid, at least one; else 422 with every error."""
    errors = Errors()
    if not isinstance(fees, list) or not fees:
        errors.add("fees", "value_is_mandatory" if not fees else "invalid_format")
        raise ValidationFailed(errors)
    lines = [_line(index, raw, errors) for index, raw in enumerate(fees)]
    if errors:
        raise ValidationFailed(errors)
    return [line for line in lines if line is not None]


# --- resolving -------------------------------------------------------------------------------


def _customer(data: dict) -> Customer:
    external_id = data.get("external_customer_id")
    code = check_code(external_id)
    if code:
        raise ValidationFailed({"external_customer_id": [code]})
    customer = Customer.objects.live().filter(external_id=external_id).first()
    if customer is None:
        raise NotFound("customer")
    return customer


def _add_ons(lines: list[Line]) -> dict[str, AddOn]:
    codes = {line.add_on_code for line in lines}
    add_ons = {a.code: a for a in AddOn.objects.live().filter(code__in=codes)}
    if len(add_ons) != len(codes):
        raise NotFound("add_on")
    return add_ons


def _currency(data: dict, customer: Customer, lines: list[Line], add_ons: dict) -> str:
    """The asked currency, else the customer's, else the add-ons' (one currency per invoice);
    an add-on's own price is used only in its own currency."""
    asked = data.get("currency")
    if asked is not None and check_currency(asked):
        raise ValidationFailed({"currency": ["value_is_invalid"]})
    priced_by_add_on = {add_ons[line.add_on_code].amount_currency for line in lines}
    currency = (asked or customer.currency or min(priced_by_add_on)).upper()
    defaulted = {
        add_ons[line.add_on_code].amount_currency
        for line in lines
        if line.unit_amount_cents is None
    }
    mismatch = customer.currency and currency != customer.currency
    ambiguous = not asked and not customer.currency and len(priced_by_add_on) > 1
    if mismatch or ambiguous or defaulted - {currency}:
        raise ValidationFailed({"currency": ["currencies_does_not_match"]})
    return currency


# --- writing ---------------------------------------------------------------------------------


def _new_invoice(customer: Customer, currency: str, now: datetime) -> Invoice:
    issuing_date = local_date(now, customer_timezone(customer))
    invoice = Invoice(
        customer=customer,
        invoice_type=Invoice.InvoiceType.ONE_OFF,
        currency=currency,
        issuing_date=issuing_date,
        payment_due_date=issuing_date,
    )
    invoice.net_payment_term = payment_term_days(invoice)
    invoice.payment_due_date = issuing_date + timedelta(days=invoice.net_payment_term)
    invoice.save()
    return invoice


def _save_fee(invoice: Invoice, line: Line, add_on: AddOn) -> Fee:
    currency = invoice.currency
    cents = add_on.amount_cents if line.unit_amount_cents is None else line.unit_amount_cents
    unit_price = from_minor_units(cents, currency)
    precise = line.units * unit_price
    details = {"add_on_code": add_on.code, "lago_add_on_id": str(add_on.lago_id)}
    if line.tax_codes:
        details["tax_codes"] = list(line.tax_codes)
    return Fee.objects.create(
        invoice=invoice,
        fee_type=Fee.FeeType.ADD_ON,
        description=(line.description or add_on.description or add_on.name)[:255],
        invoice_display_name=(
            line.invoice_display_name or add_on.invoice_display_name or add_on.name
        )[:255],
        units=line.units,
        total_aggregated_units=line.units,
        precise_unit_amount=unit_price,
        precise_amount=precise,
        amount_cents=to_minor_units(precise, currency),
        amount_currency=currency,
        amount_details=details,
        from_datetime=line.from_datetime,
        to_datetime=line.to_datetime,
    )


@transaction.atomic
def one_off_invoice_create(*, data: dict, now: datetime | None = None) -> Invoice:
    """Issue a one-off invoice from Lago's POST /invoices body (external_customer_id, currency,
    fees[{add_on_code, units, unit_amount_cents, ...}]): numbered at once, webhook sent."""
    now = now or timezone.now()
    customer = _customer(data)
    lines = _lines(data.get("fees"))
    add_ons = _add_ons(lines)
    currency = _currency(data, customer, lines, add_ons)
    _check_amounts(lines, add_ons, currency)
    invoice = _new_invoice(customer, currency, now)
    for line in lines:
        _save_fee(invoice, line, add_ons[line.add_on_code])
    invoice_totals(invoice).save()
    invoice = invoice_finalize(invoice=invoice, now=now)
    if invoice.status == Invoice.Status.FINALIZED:  # a skipped zero invoice is closed instead
        notify(invoice, WEBHOOK_TYPE)
    return invoice


# --- admin form ------------------------------------------------------------------------------


class OneOffInvoiceForm(forms.Form):
    """Issue a one-off invoice of one add-on line to `customer`, through the service."""

    add_on = forms.ModelChoiceField(queryset=AddOn.objects.none())
    units = forms.DecimalField(initial=1, max_digits=26, decimal_places=12)
    unit_amount_cents = forms.IntegerField(
        required=False, min_value=0, help_text="Minor units. Empty = the add-on's price."
    )
    description = forms.CharField(required=False, max_length=255)

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["add_on"].queryset = AddOn.objects.live()

    def payload(self) -> dict:
        """The cleaned form as Lago's POST /invoices body."""
        data = self.cleaned_data
        line = {
            "add_on_code": data["add_on"].code,
            "units": data["units"],
            "unit_amount_cents": data.get("unit_amount_cents"),
            "description": data.get("description") or None,
        }
        return {"external_customer_id": self.customer.external_id, "fees": [line]}

    def save(self) -> Invoice | None:
        """The issued invoice, or None with the service's errors put on the form."""
        try:
            return one_off_invoice_create(data=self.payload())
        except ValidationFailed as exc:
            for key, codes in exc.errors.items():
                field = key.rsplit(".", 1)[-1]
                message = f"{key}: {', '.join(codes)}"
                self.add_error(field if field in self.fields else None, message)
        except BillingError as exc:
            self.add_error(None, str(exc))
        return None
