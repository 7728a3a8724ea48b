"""Admin forms: charge properties edited as fields per charge model, validated by the same
rules as the API (plans.charge_properties and plans.services)."""

from django import forms

from core.validation import parse_decimal
from plans.charge_models import SPECS
from plans.charge_properties import validate_properties
from plans.models import BillableMetric, Charge, ChargeFilter, Plan
from plans.services import charge_errors, metric_errors, plan_errors

RANGE_KEYS = {  # tiered models: where their ranges are and the price key of a tier
    spec.key: (spec.ranges.key, spec.ranges.price_key) for spec in SPECS if spec.ranges
}
SCALAR_FIELDS = {spec.key: spec.scalar_fields for spec in SPECS if not spec.ranges}
INTEGER_FIELDS = {"package_size", "free_units", "free_units_per_events"}
RANGES_HELP = (
    "One tier per line: from, to, price, flat amount. Leave `to` empty on the last line. "
    "Price is per unit (graduated, volume) or a rate in percent (graduated percentage). "
    "Example: 0, 1000000, 0, 0 then 1000001, , 0.00002, 0"
)


def apply_errors(form: forms.Form, errors: dict, field_map: dict | None = None) -> None:
    """Put service error codes on the form fields they concern (else on the whole form)."""
    field_map = field_map or {}
    for key, codes in errors.items():
        field = field_map.get(key.split(".")[0], key.split(".")[0])
        message = f"{key}: {', '.join(codes)}"
        form.add_error(field if field in form.fields else None, message)


def ranges_to_text(ranges: list[dict], price_key: str) -> str:
    lines = []
    for tier in ranges:
        to_value = "" if tier.get("to_value") is None else tier["to_value"]
        lines.append(
            f"{tier.get('from_value')}, {to_value}, {tier.get(price_key)}, "
            f"{tier.get('flat_amount', '0')}"
        )
    return "\n".join(lines)


def text_to_ranges(text: str, price_key: str) -> list[dict]:
    """Parse the tier lines; malformed lines are kept so validation reports them."""
    ranges = []
    for line in filter(None, (raw.strip() for raw in text.splitlines())):
        parts = [part.strip() for part in line.split(",")] + ["", "", "", ""]
        ranges.append(
            {
                "from_value": _number(parts[0]),
                "to_value": _number(parts[1]) if parts[1] not in ("", "inf", "∞") else None,
                price_key: parts[2] or "0",
                "flat_amount": parts[3] or "0",
            }
        )
    return ranges


def _number(text: str):
    value = parse_decimal(text)
    if value is None:
        return text
    return int(value) if value == value.to_integral_value() else str(value)


class ChargePropertiesMixin(forms.ModelForm):
    """Per-model property fields; `properties` is built from them in clean()."""

    amount = forms.CharField(required=False, help_text="Price per unit / per package.")
    package_size = forms.IntegerField(required=False, min_value=1)
    free_units = forms.IntegerField(required=False, min_value=0)
    rate = forms.CharField(required=False, help_text="Percent, e.g. 1.5")
    fixed_amount = forms.CharField(required=False, help_text="Per event")
    free_units_per_events = forms.IntegerField(required=False, min_value=0)
    free_units_per_total_aggregation = forms.CharField(required=False)
    per_transaction_min_amount = forms.CharField(required=False)
    per_transaction_max_amount = forms.CharField(required=False)
    ranges = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), help_text=RANGES_HELP
    )
    pricing_group_keys = forms.CharField(
        required=False, help_text="Comma-separated event properties: one fee per value."
    )

    def saved_charge_model(self) -> str | None:
        """The charge model the saved row's properties are for (None on an add form)."""
        raise NotImplementedError

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        properties = self.instance.properties if self.instance.pk else {}
        model = self.saved_charge_model() if self.instance.pk else None
        for name in SCALAR_FIELDS.get(model, ()):
            self.initial.setdefault(name, properties.get(name))
        if model in RANGE_KEYS:
            key, price_key = RANGE_KEYS[model]
            self.initial.setdefault("ranges", ranges_to_text(properties.get(key, []), price_key))
        if properties.get("pricing_group_keys"):
            self.initial.setdefault(
                "pricing_group_keys", ", ".join(properties["pricing_group_keys"])
            )

    def build_properties(self, model: str) -> dict:
        data = self.cleaned_data
        properties: dict = {}
        for name in SCALAR_FIELDS.get(model, ()):
            if data.get(name) not in (None, ""):
                properties[name] = data[name]
        if model in RANGE_KEYS:
            key, price_key = RANGE_KEYS[model]
            properties[key] = text_to_ranges(data.get("ranges") or "", price_key)
        keys = [k.strip() for k in (data.get("pricing_group_keys") or "").split(",") if k.strip()]
        if keys:
            properties["pricing_group_keys"] = keys
        return properties

    def clean_properties_for(self, model: str) -> dict:
        properties, errors = validate_properties(model, self.build_properties(model))
        if errors:
            field_map = {name: name for names in SCALAR_FIELDS.values() for name in names}
            field_map |= {key: "ranges" for key, _ in RANGE_KEYS.values()}
            apply_errors(self, errors, field_map)
        return properties


class ChargeForm(ChargePropertiesMixin):
    class Meta:
        model = Charge
        fields = [
            "billable_metric",
            "code",
            "charge_model",
            "pay_in_advance",
            "invoiceable",
            "prorated",
            "min_amount_cents",
            "invoice_display_name",
            "tax_codes",
        ]

    def saved_charge_model(self) -> str | None:
        return self.instance.charge_model

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["billable_metric"].queryset = BillableMetric.objects.live()
        self.fields["code"].required = False

    def clean(self):
        cleaned = super().clean()
        model, metric = cleaned.get("charge_model"), cleaned.get("billable_metric")
        if not model or not metric:
            return cleaned
        self.instance.properties = self.clean_properties_for(model)
        if not cleaned.get("code"):
            cleaned["code"] = metric.code
        data = {**cleaned, "properties": self.instance.properties}
        errors = charge_errors(data, metric)
        apply_errors(self, {k: v for k, v in errors.items() if not k.startswith("properties.")})
        return cleaned


class ChargeFilterForm(ChargePropertiesMixin):
    values_text = forms.CharField(
        label="values",
        help_text="One key per line: key = value1, value2 (use __ALL_FILTER_VALUES__ for any).",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
    )

    class Meta:
        model = ChargeFilter
        fields = ["invoice_display_name"]

    def saved_charge_model(self) -> str | None:
        """A filter prices with its charge's model (it has none of its own)."""
        return self.instance.charge.charge_model if self.instance.charge_id else None

    def __init__(self, *args, charge: Charge | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["values_text"] = "\n".join(
                f"{k} = {', '.join(v)}" for k, v in self.instance.values.items()
            )

    def clean(self):
        cleaned = super().clean()
        values = {}
        for line in (cleaned.get("values_text") or "").splitlines():
            key, _, rest = line.partition("=")
            if key.strip():
                values[key.strip()] = [v.strip() for v in rest.split(",") if v.strip()]
        self.instance.values = values
        charge = self.instance.charge if self.instance.charge_id else None
        if charge is not None:
            self.instance.properties = self.clean_properties_for(charge.charge_model)
            errors = charge_errors(
                {
                    "charge_model": charge.charge_model,
                    "filters": [{"values": values, "properties": self.instance.properties}],
                },
                charge.billable_metric,
            )
            apply_errors(
                self,
                {k: v for k, v in errors.items() if k.startswith("filters.0.values")},
                {"filters": "values_text"},
            )
        return cleaned


class BillableMetricForm(forms.ModelForm):
    expression = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=BillableMetric._meta.get_field("expression").help_text,
    )

    class Meta:
        model = BillableMetric
        fields = [
            "name",
            "code",
            "description",
            "aggregation_type",
            "field_name",
            "expression",
            "recurring",
            "rounding_function",
            "rounding_precision",
            "unit_cost",
        ]

    def clean(self):
        cleaned = super().clean()
        instance = self.instance if self.instance.pk else None
        apply_errors(self, metric_errors(dict(cleaned), instance=instance))
        return cleaned


class PlanForm(forms.ModelForm):
    class Meta:
        model = Plan
        fields = [
            "name",
            "code",
            "description",
            "invoice_display_name",
            "interval",
            "amount_cents",
            "amount_currency",
            "pay_in_advance",
            "trial_period",
            "bill_charges_monthly",
            "tax_codes",
            "metadata",
        ]

    def clean(self):
        cleaned = super().clean()
        instance = self.instance if self.instance.pk else None
        apply_errors(self, plan_errors(dict(cleaned), instance=instance))
        return cleaned
