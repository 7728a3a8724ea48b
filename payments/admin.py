"""Payments in the admin: per invoice with their Stripe ids and a retry button; provider
events; refunds; reconciliation differences to resolve."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core import display, roles
from core.errors import BillingError
from core.exports import Exportable
from invoices.admin import invoice_admin_add_inline
from invoices.invoice_page import invoice_page_add_section
from payments.models import Payment, ReconciliationIssue, Refund, StripeEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(Exportable, ReadOnlyAdmin):
    export_fields = [
        "id",
        "lago_id",
        "invoice__number",
        "customer__external_id",
        "status",
        "amount_cents",
        "currency",
        "attempts",
        "provider_payment_id",
        "last_error",
        "succeeded_at",
        "created_at",
    ]
    list_display = [
        "invoice",
        "customer",
        "status",
        "amount",
        "attempts",
        "next_retry_at",
        "provider_payment_id",
    ]
    list_filter = ["status", "currency", ("next_retry_at", admin.EmptyFieldListFilter)]
    search_fields = ["invoice__number", "customer__external_id", "=provider_payment_id"]
    list_select_related = ["invoice", "customer"]
    readonly_fields = [
        *[f.name for f in Payment._meta.fields],
        "retry_button",
    ]
    actions = ["retry_selected"]

    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, payment: Payment) -> str:
        return display.money(payment.amount_cents, payment.currency)

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm(roles.RETRY_PAYMENT)

    @admin.display(description="retry")
    def retry_button(self, payment: Payment) -> str:
        if payment.status == Payment.Status.SUCCEEDED or payment.pk is None:
            return "—"
        return format_html(
            '<a class="button" href="{}">Retry the payment now</a>',
            reverse("admin:payments_payment_retry", args=[payment.pk]),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/retry/",
                self.admin_site.admin_view(self.retry_view),
                name="payments_payment_retry",
            ),
            *super().get_urls(),
        ]

    def retry_view(self, request, pk: int):
        """POST: charge now (GET shows nothing but a confirmation form)."""
        if not request.user.has_perm(roles.RETRY_PAYMENT):
            raise PermissionDenied
        payment = get_object_or_404(Payment.objects.select_related("invoice"), pk=pk)
        back = reverse("admin:payments_payment_change", args=[pk])
        if request.method == "POST":
            self._retry(request, payment)
            return redirect(back)
        from django.template.response import TemplateResponse

        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": payment.invoice,
            "title": f"Retry the payment of {payment.invoice}?",
            "consequence": "The customer's default payment method is charged now.",
            "back": back,
        }
        return TemplateResponse(request, "admin/invoices/invoice/confirm.html", context)

    def _retry(self, request, payment: Payment) -> None:
        from payments.services import payment_retry_now

        try:
            result = payment_retry_now(invoice=payment.invoice)
        except BillingError as exc:
            self.message_user(request, f"Not retried: {exc}", messages.ERROR)
            return
        self.log_change(request, payment, "Retried")
        status = result.status if result else "not collected (no Stripe customer?)"
        self.message_user(request, f"{payment.invoice}: payment {status}.")

    @admin.action(description="Retry the selected payments now", permissions=["retry"])
    def retry_selected(self, request, queryset):
        for payment in queryset.select_related("invoice"):
            self._retry(request, payment)


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = ["status", "amount", "attempts", "provider_payment_id", "last_error", "link"]
    readonly_fields = fields

    @admin.display(description="amount")
    def amount(self, payment: Payment) -> str:
        return display.money(payment.amount_cents, payment.currency)

    @admin.display(description="")
    def link(self, payment: Payment) -> str:
        return format_html(
            '<a href="{}">open (retry)</a>',
            reverse("admin:payments_payment_change", args=[payment.pk]),
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False


invoice_admin_add_inline(PaymentInline)  # the payment section of the invoice page


def _payment_attempts(invoice) -> dict | None:
    """The invoice page's "Payment attempts": the payment row, then what the provider said
    about each attempt (its events, oldest first: metadata payment_id and attempt), then the
    refunds of its credit notes."""
    payment = Payment.objects.filter(invoice=invoice).first()
    if payment is None:
        return {
            "title": "Payment attempts",
            "headers": [],
            "rows": [],
            "empty": "No payment through a provider (paid by hand, by credits, or nothing due).",
        }
    link = format_html(
        '<a href="{}">{}</a>',
        reverse("admin:payments_payment_change", args=[payment.pk]),
        f"payment ({payment.attempts} attempt{'s' if payment.attempts != 1 else ''})",
    )
    rows = [
        [
            link,
            payment.status,
            display.money(payment.amount_cents, payment.currency),
            payment.provider_payment_id,
            payment.last_error
            or (
                f"next retry {payment.next_retry_at:%Y-%m-%d %H:%M} UTC"
                if payment.next_retry_at
                else ""
            ),
        ]
    ]
    events = StripeEvent.objects.filter(
        payload__data__object__metadata__payment_id=str(payment.pk)
    ).order_by("provider_created_at", "rank", "id")
    for event in events:
        metadata = ((event.payload.get("data") or {}).get("object") or {}).get("metadata") or {}
        when = event.provider_created_at or event.received_at
        rows.append(
            [
                f"attempt {metadata.get('attempt', '?')}",
                event.event_type,
                f"{when:%Y-%m-%d %H:%M:%S} UTC",
                event.object_id,
                event.outcome,
            ]
        )
    for refund in payment.refunds.select_related("credit_note").order_by("created_at", "id"):
        rows.append(
            [
                f"refund of {refund.credit_note.number}",
                refund.status,
                display.money(refund.amount_cents, payment.currency),
                refund.provider_refund_id,
                refund.last_error,
            ]
        )
    return {
        "title": "Payment attempts",
        "headers": ["what", "status / event", "amount / when", "provider id", "outcome"],
        "rows": rows,
        "empty": "",
    }


invoice_page_add_section(_payment_attempts)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["event_type", "event_id", "received_at", "outcome"]
    list_filter = ["event_type"]
    search_fields = ["=event_id"]
    readonly_fields = [f.name for f in StripeEvent._meta.fields]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["credit_note", "amount", "status", "provider_refund_id", "created_at"]
    list_filter = ["status"]
    search_fields = ["credit_note__number", "=provider_refund_id"]
    list_select_related = ["credit_note"]
    readonly_fields = [f.name for f in Refund._meta.fields]

    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, refund: Refund) -> str:
        return display.money(refund.amount_cents, refund.credit_note.currency)


@admin.register(ReconciliationIssue)
class ReconciliationIssueAdmin(ReadOnlyAdmin):
    list_display = ["kind", "provider_payment_id", "payment", "details", "found_at", "resolved_at"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["=provider_payment_id"]
    readonly_fields = [f.name for f in ReconciliationIssue._meta.fields]
    actions = ["resolve"]

    @admin.action(description="Mark the selected differences as resolved")
    def resolve(self, request, queryset):
        count = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        self.message_user(request, f"{count} resolved.")
