"""The prices a subscription is billed with, in its billing currency.

A plan's own currency, or a price it carries for that currency (PlanPrice, ChargePrice). When
it has none, amounts are computed in the plan's currency and converted at the FX rate of the
issuing date, rounded once per fee — and the invoice prints the rate."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from core.errors import RuleViolation
from core.fx import fx_rate_or_none
from core.money import from_minor_units, to_minor_units
from plans.models import Charge, ChargePrice, Plan


@dataclass(frozen=True)
class PriceList:
    currency: str  # the billing currency
    plan: Plan
    base_amount: Decimal  # base fee in `currency`, major units, full precision
    fx_rate: Decimal | None = None  # plan currency → `currency`, when converting
    fx_date: date | None = None
    native_charges: dict = field(default_factory=dict)  # charge pk → properties in `currency`

    @property
    def base_amount_cents(self) -> int:
        return to_minor_units(self.base_amount, self.currency)

    def properties(self, charge: Charge) -> dict:
        return self.native_charges.get(charge.pk, charge.properties)

    def convert(self, charge: Charge | None, amount: Decimal) -> Decimal:
        """A precise amount of `charge` (or of a plan-currency amount) in the billing currency."""
        if self.plan.amount_currency == self.currency:
            return amount
        if charge is not None and charge.pk in self.native_charges:
            return amount
        return _converted(amount, self.fx_rate, self.plan)

    def fx_details(self) -> dict:
        if self.fx_rate is None:
            return {}
        return {
            "from": self.plan.amount_currency,
            "to": self.currency,
            "rate": str(self.fx_rate),
            "date": self.fx_date.isoformat() if self.fx_date else None,
        }


def plan_has_price(plan: Plan, currency: str) -> bool:
    return plan.amount_currency == currency or plan.prices.filter(currency=currency).exists()


def price_list(plan: Plan, currency: str, on: date) -> PriceList:
    """The prices of `plan` in `currency` on `on`; FX only for what has no native price."""
    if plan.amount_currency == currency:
        return PriceList(currency, plan, from_minor_units(plan.amount_cents, currency))
    native = {
        price.charge_id: price.properties
        for price in ChargePrice.objects.filter(
            charge__plan=plan, charge__deleted_at__isnull=True, currency=currency
        )
    }
    price = plan.prices.filter(currency=currency).first()
    rate = fx_rate_or_none(base=plan.amount_currency, quote=currency, on=on)
    if price is not None:
        base = from_minor_units(price.amount_cents, currency)
    else:
        base = _converted(from_minor_units(plan.amount_cents, plan.amount_currency), rate, plan)
    return PriceList(currency, plan, base, rate, on if rate is not None else None, native)


def _converted(amount: Decimal, rate: Decimal | None, plan: Plan) -> Decimal:
    if rate is None:
        raise RuleViolation(
            "no_fx_rate", f"No price and no FX rate to bill plan {plan.code} in this currency."
        )
    return amount * rate
