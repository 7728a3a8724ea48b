from django.apps import AppConfig


class PlansConfig(AppConfig):
    """The catalog: billable metrics, plans, charges, and the pure pricing engine."""

    name = "plans"
