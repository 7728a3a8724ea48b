"""Which taxes apply to a fee: explicit tax codes by precedence, else the automatic rules."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.money import round_minor_units
from core.selectors import organization_get
from taxes.models import Tax, TaxRule
from taxes.vat import is_eu

REVERSE_CHARGE_MENTION = (
    "Reverse charge: VAT to be accounted for by the recipient (Art. 196, Directive 2006/112/EC)."
)


@dataclass(frozen=True)
class TaxLine:
    """One tax on a fee: code and name for the invoice, rate in percent."""

    code: str
    name: str
    rate: Decimal
    mention: str = ""


@dataclass(frozen=True)
class TaxContext:
    """What the automatic rules need to know about seller and buyer, once per invoice."""

    seller_country: str
    us_tax_states: frozenset
    customer_country: str
    customer_state: str
    business: bool
    tax_id: str
    tax_id_valid: bool | None  # None: no number, or not an EU country
    on: date


def tax_context(*, customer, on: date, tax_id_valid: bool | None) -> TaxContext:
    """The automatic rules' view of seller and buyer. `tax_id_valid` is the verdict on the
    customer's VAT number (`taxes.services.tax_id_verdict`, which may ask VIES online): a
    selector makes no network call, so the caller asks first and passes the answer."""
    organization = organization_get()
    country = (customer.country or "").upper()
    tax_id = customer.tax_identification_number.strip()
    return TaxContext(
        seller_country=(organization.country or "").upper(),
        us_tax_states=frozenset(s.upper() for s in organization.us_tax_states or []),
        customer_country=country,
        customer_state=(customer.state or "").upper(),
        business=customer.customer_type == "company" or bool(tax_id),
        tax_id=tax_id,
        tax_id_valid=tax_id_valid,
        on=on,
    )


def explicit_taxes(code_levels: list[list[str]]) -> list[TaxLine] | None:
    """The most specific level that names taxes wins (fee, add-on, charge, plan, customer),
    then the organization's default taxes; None when nothing is named anywhere."""
    for codes in code_levels:
        if codes:
            taxes = Tax.objects.filter(code__in=codes)
            return [TaxLine(t.code, t.name, t.rate) for t in taxes]
    defaults = Tax.objects.filter(applied_to_organization=True)
    lines = [TaxLine(t.code, t.name, t.rate) for t in defaults]
    return lines or None


def code_levels(*, fee=(), add_on=(), charge=(), plan=(), customer=()) -> list[list[str]]:
    """The explicit tax codes of a fee, most specific first: the fee's own, its add-on's, its
    charge's, its plan's (or minimum commitment's), the customer's."""
    return [list(codes or []) for codes in (fee, add_on, charge, plan, customer)]


def fee_taxes(code_levels: list[list[str]], automatic: list[TaxLine]) -> list[TaxLine]:
    """The taxes of one fee: the explicit codes by precedence, else the automatic rules."""
    return explicit_taxes(code_levels) or automatic


def tax_cents(base_cents: int, rate: Decimal) -> int:
    """One fee's tax at one rate: base x rate / 100, rounded half-up to the minor unit by the
    money helper (per fee and rate; an invoice's taxes are the sum of these)."""
    return round_minor_units(Decimal(base_cents) * rate / 100)


def _rule(kind: str, country: str, region: str, on: date) -> TaxRule | None:
    return (
        TaxRule.objects.filter(kind=kind, country=country, region=region, effective_from__lte=on)
        .order_by("-effective_from")
        .first()
    )


def _rule_line(rule: TaxRule | None) -> list[TaxLine]:
    if rule is None:
        return []
    code = f"{rule.kind}_{rule.country}{'_' + rule.region if rule.region else ''}".lower()
    return [TaxLine(code, rule.name, rule.rate)]


def automatic_taxes(context: TaxContext) -> list[TaxLine]:
    """EU VAT (domestic, reverse charge for valid business numbers, OSS for consumers), US sales
    tax where the seller is registered, else nothing."""
    customer, seller = context.customer_country, context.seller_country
    if customer == "US":
        if context.customer_state not in context.us_tax_states:
            return []
        return _rule_line(_rule(TaxRule.Kind.SALES_TAX, "US", context.customer_state, context.on))
    if not (is_eu(seller) and is_eu(customer)):
        return []
    if customer == seller:
        return _rule_line(_rule(TaxRule.Kind.VAT, seller, "", context.on))
    if context.business and context.tax_id_valid:
        return [
            TaxLine("vat_reverse_charge", "VAT reverse charge", Decimal(0), REVERSE_CHARGE_MENTION)
        ]
    return _rule_line(_rule(TaxRule.Kind.VAT, customer, "", context.on))
