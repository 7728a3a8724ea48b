"""/portal/…: the customer portal."""

from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("login", views.login_view, name="login"),
    path("login/code", views.login_code_view, name="login-code"),
    path("logout", views.logout_view, name="logout"),
    path("t/<str:token>", views.token_view, name="token"),
    path("password-reset", views.PortalPasswordResetView.as_view(), name="password-reset"),
    path(
        "password-reset/sent",
        views.PortalPasswordResetSentView.as_view(),
        name="password-reset-sent",
    ),
    path(
        "set-password/<uidb64>/<token>",
        views.PortalSetPasswordView.as_view(),
        name="set-password",
    ),
    path("set-password/done", views.PortalSetPasswordDoneView.as_view(), name="set-password-done"),
    path("usage", views.usage, name="usage"),
    path("invoices", views.invoices, name="invoices"),
    path("invoices/<uuid:lago_id>", views.invoice_detail, name="invoice"),
    path("invoices/<uuid:lago_id>/pdf", views.invoice_pdf, name="invoice-pdf"),
    path("invoices/<uuid:lago_id>/pay", views.invoice_pay, name="invoice-pay"),
    path("credits", views.credits, name="credits"),
    path("credits/<uuid:lago_id>/top-up", views.credits_top_up, name="credits-top-up"),
    path("billing-details", views.billing_details, name="billing-details"),
    path("account", views.account, name="account"),
    path("account/two-factor", views.two_factor_setup, name="two-factor"),
    path("account/two-factor/off", views.two_factor_disable, name="two-factor-off"),
]
