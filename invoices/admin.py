"""Invoices in the admin: fees inline, read-only once issued, lifecycle buttons with
confirmation pages (finalize, refresh, void, download PDF, resend e-mail), each shown to and
allowed for the roles that may use it (core.roles)."""

import contextvars

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core import display, roles
from core.admin_base import ReadOnlyModelAdmin
from core.bulk_admin import bulk_action
from core.errors import BillingError
from core.exports import Exportable
from core.models import BulkJob
from invoices.invoice_page import invoice_page_context
from invoices.models import BillingFailure, CreditNote, Fee, Invoice, InvoiceSubscription
from invoices.selectors import invoice_is_overdue, overdue_q
from invoices.services import invoice_finalize, invoice_refresh, invoice_void


class FeeDisplay:
    """A fee as finance reads it: units and prices without the stored trailing zeros, the
    amount in its currency; the full-precision unit amount stays on the fee's page, labelled."""

    @admin.display(description="units", ordering="units")
    def quantity(self, fee: Fee) -> str:
        return display.units(fee.units)

    @admin.display(description="unit price")
    def unit_price(self, fee: Fee) -> str:
        return display.unit_price(fee.precise_unit_amount, fee.amount_currency)

    @admin.display(description="amount", ordering="amount_cents")
    def amount(self, fee: Fee) -> str:
        return display.money(fee.amount_cents, fee.amount_currency)

    @admin.display(description="taxes")
    def taxes(self, fee: Fee) -> str:
        return display.money(fee.taxes_amount_cents, fee.amount_currency)

    @admin.display(description="precise unit amount (full precision)")
    def precise_unit_amount_full(self, fee: Fee) -> str:
        return f"{fee.precise_unit_amount} {fee.amount_currency}"


BROKEN_DOWN = {"graduated", "graduated_percentage", "volume", "package", "percentage"}


class FeeInline(admin.TabularInline):
    model = Fee
    extra = 0
    can_delete = False
    fields = ["invoice_display_name", "fee_type", "quantity", "unit_price", "amount"]
    readonly_fields = fields
    quantity = FeeDisplay.quantity
    amount = FeeDisplay.amount

    @admin.display(description="unit price")
    def unit_price(self, fee: Fee) -> str:
        """No blended price for a fee priced by tiers, packages or a rate: its lines are in the
        document section above."""
        if fee.charge_id and fee.charge.charge_model in BROKEN_DOWN:
            return "see its lines above"
        return FeeDisplay.unit_price(self, fee)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("charge")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class BillingInline(admin.TabularInline):
    model = InvoiceSubscription
    extra = 0
    can_delete = False
    fields = ["subscription", "invoicing_reason", "from_datetime", "to_datetime", "boundary"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class OverdueFilter(admin.SimpleListFilter):
    title, parameter_name = "overdue", "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "overdue"), ("no", "not overdue")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return (
                queryset.filter(overdue_q())
                if self.value() == "yes"
                else queryset.exclude(overdue_q())
            )
        return queryset


ACTIONS = {
    "finalize": ("Finalize", "It gets its number and can no longer change.", invoice_finalize),
    "refresh": ("Refresh", "Its fees are recomputed from the usage as it is now.", invoice_refresh),
    "void": ("Void", "It stays on record as voided; nothing is owed on it any more.", invoice_void),
}


@admin.register(Invoice)
class InvoiceAdmin(Exportable, admin.ModelAdmin):
    export_fields = [
        "id",
        "lago_id",
        "number",
        "customer__external_id",
        "invoice_type",
        "status",
        "payment_status",
        "payment_overdue",
        "issuing_date",
        "payment_due_date",
        "currency",
        "fees_amount_cents",
        "coupons_amount_cents",
        "taxes_amount_cents",
        "credit_notes_amount_cents",
        "prepaid_credit_amount_cents",
        "total_amount_cents",
    ]
    change_list_template = "admin/invoices/invoice/change_list.html"
    change_form_template = "admin/invoices/invoice/change_form.html"
    # Fits a 1280-pixel screen beside the sidebars (core/static/core/admin.css): the payment
    # status sits under the status, names wrap, numbers and amounts do not.
    list_display = [
        "__str__",
        "customer",
        "issuing_date",
        "state",
        "overdue",
        "total",
        "invoice_type",
    ]
    list_filter = ["status", "payment_status", OverdueFilter, "currency", "invoice_type"]
    actions = [
        bulk_action(
            BulkJob.Kind.FINALIZE,
            "Finalize the selected drafts",
            "Each draft gets its number and can no longer change; finalized ones are skipped.",
            ids_of=lambda rows: rows.filter(status="draft").values_list("pk", flat=True),
        ),
        bulk_action(
            BulkJob.Kind.RETRY_PAYMENTS,
            "Retry the payments of the selected invoices",
            "Each unpaid invoice is charged now with the customer's payment method.",
            ids_of=lambda rows: (
                rows.filter(status="finalized")
                .exclude(payment_status="succeeded")
                .values_list("pk", flat=True)
            ),
        ),
    ]
    search_fields = ["number", "customer__external_id", "customer__name", "=lago_id"]
    list_select_related = ["customer"]
    date_hierarchy = "issuing_date"
    inlines = [BillingInline, FeeInline]  # higher apps add theirs: invoice_admin_add_inline
    readonly_fields = [
        "lago_id",
        "number",
        "customer",
        "invoice_type",
        "status",
        "payment_status",
        "overdue",
        "currency",
        "issuing_date",
        "payment_due_date",
        "net_payment_term",
        "finalize_after",
        "finalized_at",
        "voided_at",
        "fees_amount",
        "taxes_amount",
        "total",
        "file",
        "email_sent_at",
        "lifecycle_actions",
    ]
    fields = [*readonly_fields, "metadata"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        token = _viewing_user.set(request.user)  # lifecycle_actions shows what they may do
        invoice = self.get_object(request, object_id)
        if invoice is not None:  # the read-only document section at the top of the page
            extra_context = {**(extra_context or {}), "invoice_page": invoice_page_context(invoice)}
        try:
            response = super().change_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()
            return response
        finally:
            _viewing_user.reset(token)

    def get_export_resource_classes(self, request):
        (resource,) = super().get_export_resource_classes(request)

        def dehydrate_payment_overdue(self, invoice: Invoice) -> bool:
            return invoice_is_overdue(invoice)  # the definition, as the list shows it

        return [
            type(
                resource.__name__,
                (resource,),
                {"dehydrate_payment_overdue": dehydrate_payment_overdue},
            )
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != Invoice.Status.DRAFT:
            return [*self.readonly_fields, "metadata"]  # issued invoices never change
        return self.readonly_fields

    def has_add_permission(self, request) -> bool:
        return False  # invoices come from period close (and one-off invoices from the API)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="payment overdue", boolean=True)
    def overdue(self, invoice: Invoice) -> bool:
        return invoice_is_overdue(invoice)

    @admin.display(description="status", ordering="status")
    def state(self, invoice: Invoice) -> str:
        """The status, and under it the payment status of a finalized invoice."""
        if invoice.status != Invoice.Status.FINALIZED:
            return invoice.get_status_display()
        return format_html(
            '{}<br><span class="payment-status">{}</span>',
            invoice.get_status_display(),
            invoice.get_payment_status_display(),
        )

    @admin.display(description="fees")
    def fees_amount(self, invoice: Invoice) -> str:
        return display.money(invoice.fees_amount_cents, invoice.currency)

    @admin.display(description="taxes")
    def taxes_amount(self, invoice: Invoice) -> str:
        return display.money(invoice.taxes_amount_cents, invoice.currency)

    @admin.display(description="total", ordering="total_amount_cents")
    def total(self, invoice: Invoice) -> str:
        return display.money(invoice.total_amount_cents, invoice.currency)

    @admin.display(description="actions")
    def lifecycle_actions(self, invoice: Invoice) -> str:
        if invoice.pk is None:
            return "—"
        buttons = []
        if invoice.status == Invoice.Status.DRAFT:
            buttons += ["finalize", "refresh"]
        if invoice.status == Invoice.Status.FINALIZED:
            buttons += ["void", "resend"]
            if invoice.total_amount_cents > 0:
                buttons.append("credit_note")
        user = _viewing_user.get()
        if user is not None:
            buttons = [name for name in buttons if _may(user, name)]
        links = [
            format_html(
                '<a class="button" href="{}">{}</a>',
                _button_url(invoice, name),
                BUTTON_LABELS.get(name) or ACTIONS[name][0],
            )
            for name in buttons
        ]
        links.append(
            format_html(
                '<a class="button" href="{}">Download PDF</a>',
                reverse("admin:invoices_invoice_pdf", args=[invoice.pk]),
            )
        )
        return format_html(" ".join(["{}"] * len(links)), *links)

    def get_urls(self):
        return [
            path(
                "revenue/",
                self.admin_site.admin_view(self.revenue_view),
                name="invoices_invoice_revenue",
            ),
            path(
                "<int:pk>/credit-note/",
                self.admin_site.admin_view(self.credit_note_view),
                name="invoices_invoice_credit_note",
            ),
            path(
                "<int:pk>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="invoices_invoice_pdf",
            ),
            path(
                "<int:pk>/do/<str:action>/",
                self.admin_site.admin_view(self.action_view),
                name="invoices_invoice_action",
            ),
            *super().get_urls(),
        ]

    def revenue_view(self, request):
        """Revenue per month and currency, and in the base currency (FX at month end)."""
        from invoices.selectors import revenue_by_month

        rows = revenue_by_month()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Revenue by month",
            "rows": [
                {
                    "row": row,
                    "revenue": display.money(row.revenue_cents, row.currency),
                    "taxes": display.money(row.taxes_cents, row.currency),
                    "base": display.money(row.base_revenue_cents, row.base_currency)
                    if row.base_revenue_cents is not None
                    else "no FX rate",
                }
                for row in rows
            ],
        }
        return TemplateResponse(request, "admin/invoices/invoice/revenue.html", context)

    def pdf_view(self, request, pk: int):
        from invoices.views import pdf_response

        invoice = get_object_or_404(Invoice.objects.select_related("customer"), pk=pk)
        return pdf_response(invoice)

    def action_view(self, request, pk: int, action: str):
        """Confirmation page, then the service call, log_change and a message."""
        invoice = get_object_or_404(Invoice.objects.select_related("customer"), pk=pk)
        if action not in (*ACTIONS, "resend") or not _may(request.user, action):
            raise PermissionDenied
        back = reverse("admin:invoices_invoice_change", args=[pk])
        if request.method != "POST":
            label, consequence = ACTIONS[action][:2] if action in ACTIONS else ("Resend e-mail", "")
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "original": invoice,
                "title": f"{label} {invoice}?",
                "consequence": consequence,
                "back": back,
            }
            return TemplateResponse(request, "admin/invoices/invoice/confirm.html", context)
        try:
            self._run(action, invoice)
        except BillingError as exc:
            self.message_user(request, f"Not done: {exc}", messages.ERROR)
        else:
            self.log_change(request, invoice, f"{action}")
            self.message_user(request, f"{invoice}: {action} done.", messages.SUCCESS)
        return redirect(back)

    def credit_note_view(self, request, pk: int):
        """Pick amounts per fee and the split; "Preview" shows the credit note's amounts from
        the same service calls that issue it (nothing saved), "Issue" creates it."""
        from invoices.forms import CreditNoteForm
        from invoices.services.credit_notes import (
            credit_note_create,
            credit_note_estimate,
            credit_note_split,
        )

        invoice = get_object_or_404(Invoice.objects.select_related("customer"), pk=pk)
        if not _may(request.user, "credit_note"):
            raise PermissionDenied
        form = CreditNoteForm(request.POST or None, invoice=invoice)
        estimate = split = None
        if request.method == "POST" and form.is_valid():
            try:
                estimate = credit_note_estimate(invoice=invoice, items=form.items())
                split = credit_note_split(estimate, form.payload(estimate.total))
                if "issue" in request.POST:
                    by_operator = not request.user.has_perm(roles.LARGE_CREDIT_NOTE)
                    note = credit_note_create(
                        data=form.payload(estimate.total), by_operator=by_operator
                    )
                    self.log_change(request, invoice, f"Credit note {note.number}")
                    self.message_user(request, f"Credit note {note.number} issued.")
                    return redirect(reverse("admin:invoices_invoice_change", args=[pk]))
            except BillingError as exc:
                self.message_user(request, f"Not issued: {exc}", messages.ERROR)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": invoice,
            "title": f"Credit note on {invoice}",
            "form": form,
            "estimate": estimate,
            "split": split and dict(zip(("credit", "refund", "offset"), split, strict=True)),
        }
        return TemplateResponse(request, "admin/invoices/invoice/credit_note.html", context)

    def _run(self, action: str, invoice: Invoice) -> None:
        if action == "resend":
            from invoices.documents import invoice_email_send, invoice_pdf_store

            invoice_email_send(invoice=invoice_pdf_store(invoice=invoice), force=True)
            return
        ACTIONS[action][2](invoice=invoice)


BUTTON_LABELS = {"resend": "Resend e-mail", "credit_note": "Issue credit note"}
_viewing_user = contextvars.ContextVar("invoice_admin_user", default=None)
PERMISSIONS = {  # who may press which button (core.roles)
    "finalize": "invoices.change_invoice",
    "refresh": "invoices.change_invoice",
    "resend": "invoices.change_invoice",
    "void": roles.VOID,
    "credit_note": "invoices.add_creditnote",
}


def _may(user, action: str) -> bool:
    return user.has_perm(PERMISSIONS[action])


def _button_url(invoice: Invoice, name: str) -> str:
    if name == "credit_note":
        return reverse("admin:invoices_invoice_credit_note", args=[invoice.pk])
    return reverse("admin:invoices_invoice_action", args=[invoice.pk, name])


@admin.register(CreditNote)
class CreditNoteAdmin(Exportable, admin.ModelAdmin):
    export_fields = [
        "id",
        "lago_id",
        "number",
        "invoice__number",
        "customer__external_id",
        "reason",
        "currency",
        "credit_amount_cents",
        "refund_amount_cents",
        "total_amount_cents",
        "credit_status",
        "refund_status",
        "created_at",
    ]
    list_display = [
        "number",
        "customer",
        "reason",
        "total",
        "credit_status",
        "refund_status",
        "created_at",
    ]
    list_filter = ["reason", "credit_status", "refund_status", "currency", "automatic"]
    search_fields = ["number", "invoice__number", "customer__external_id"]
    list_select_related = ["customer", "invoice"]
    readonly_fields = [f.name for f in CreditNote._meta.fields]
    actions = ["void_credit"]

    @admin.display(description="total", ordering="total_amount_cents")
    def total(self, note: CreditNote) -> str:
        return display.money(note.total_amount_cents, note.currency)

    def has_add_permission(self, request) -> bool:
        return False  # issued from the invoice's page

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Void the unused credit of the selected notes")
    def void_credit(self, request, queryset):
        from invoices.services.credit_notes import credit_note_void

        for note in queryset:
            try:
                credit_note_void(note=note)
            except BillingError as exc:
                self.message_user(request, f"{note}: {exc}", messages.ERROR)
            else:
                self.log_change(request, note, "Voided")


FEE_SHOWN = ["quantity", "unit_price", "amount", "taxes", "precise_unit_amount_full"]
FEE_RAW = ["units", "precise_unit_amount", "amount_cents", "taxes_amount_cents"]


@admin.register(Fee)
class FeeAdmin(FeeDisplay, Exportable, ReadOnlyModelAdmin):
    export_fields = [
        "id",
        "lago_id",
        "invoice__number",
        "fee_type",
        "invoice_display_name",
        "charge__billable_metric__code",
        "units",
        "precise_unit_amount",
        "amount_cents",
        "taxes_amount_cents",
        "amount_currency",
        "from_datetime",
        "to_datetime",
    ]
    list_display = ["__str__", "invoice", "fee_type", "quantity", "amount"]
    list_filter = ["fee_type", "amount_currency"]
    search_fields = ["invoice__number", "invoice_display_name", "subscription__external_id"]
    list_select_related = ["invoice"]
    readonly_fields = FEE_SHOWN + [f.name for f in Fee._meta.fields if f.name not in FEE_RAW]
    exclude = FEE_RAW


class OpenFailureFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "open"), ("resolved", "resolved")]

    def queryset(self, request, queryset):
        if self.value() in ("open", "resolved"):
            return queryset.filter(resolved_at__isnull=self.value() == "open")
        return queryset


@admin.register(BillingFailure)
class BillingFailureAdmin(ReadOnlyModelAdmin):
    """Subscriptions the period close could not invoice, with the reason; each stays due and is
    retried by the next run (invoices/services/failures.py)."""

    # Narrow enough for a 1280-pixel screen beside the filters; the dates and the resolution
    # are on each failure's page.
    list_display = ["subscription", "customer", "boundary", "code", "wrapped_message", "attempts"]
    list_filter = [OpenFailureFilter, "code"]
    search_fields = ["subscription__external_id", "subscription__customer__external_id"]
    list_select_related = ["subscription__customer"]
    ordering = ["-last_failed_at"]
    readonly_fields = [f.name for f in BillingFailure._meta.fields]

    @admin.display(description="customer")
    def customer(self, failure: BillingFailure) -> str:
        return failure.subscription.customer.external_id

    @admin.display(description="message")
    def wrapped_message(self, failure: BillingFailure) -> str:
        """The whole message, wrapped anywhere: an out-of-range amount is a 40-digit number that
        would otherwise push the column out of the list."""
        style = "overflow-wrap: anywhere"
        return format_html('<span style="{}">{}</span>', style, failure.message)


def invoice_admin_add_inline(inline: type[admin.options.InlineModelAdmin]) -> None:
    """A higher app (payments) adds its section to the invoice page, after ours, once; the
    invoice admin names no app above invoicing."""
    if inline not in InvoiceAdmin.inlines:
        InvoiceAdmin.inlines = [*InvoiceAdmin.inlines, inline]
