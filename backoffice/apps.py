from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """Features that read or drive every domain: the finance dashboard, global search, the
    bulk jobs of the admin's actions, the pricing simulator, personal-data export and erasure,
    the demo loader. Top layer (like portal): it imports any app, none imports it."""

    name = "backoffice"
    verbose_name = "Back-office"

    def ready(self) -> None:
        from backoffice import bulk

        bulk.register()
        _mount_admin_views()


def _mount_admin_views() -> None:
    """The admin pages that are not a model's, under the URLs and names they always had."""
    from backoffice import dashboard_views, views
    from backoffice.simulator_views import simulator_view
    from core.admin_site import register_view

    register_view("search/", views.search_view, "global_search")
    register_view("pricing-simulator/", simulator_view, "pricing_simulator")
    register_view("dashboard/", dashboard_views.dashboard_view, "dashboard")
    register_view("dashboard/<str:name>.csv", dashboard_views.dashboard_csv_view, "dashboard_csv")
    register_view(
        "customers/customer/<int:pk>/overview/",
        views.customer_overview_view,
        "customers_customer_overview",
    )
    register_view(
        "customers/customer/<int:pk>/personal-data/export/",
        views.gdpr_export_view,
        "customers_customer_gdpr_export",
    )
    register_view(
        "customers/customer/<int:pk>/personal-data/erase/",
        views.gdpr_erase_view,
        "customers_customer_gdpr_erase",
    )
