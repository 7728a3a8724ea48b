"""Portal users in the admin: invite one (an e-mail with a link to choose a password),
re-send, disable."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model

from customers.models import Customer
from portal.models import PortalAccount
from portal.services import portal_account_invite

User = get_user_model()


class InviteForm(forms.ModelForm):
    email = forms.EmailField(help_text="The person receives a link to choose a password.")

    class Meta:
        model = PortalAccount
        fields = ["customer"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.live().order_by("external_id")

    def clean(self):
        cleaned = super().clean()
        email, customer = (cleaned.get("email") or "").lower(), cleaned.get("customer")
        user = User.objects.filter(username=email).first()
        staff = User.objects.filter(email__iexact=email).filter(is_staff=True).exists()
        if staff or (user is not None and user.is_superuser):
            self.add_error("email", "This is a staff login; use another address.")
        account = PortalAccount.objects.filter(user=user).first() if user else None
        if account is not None and customer is not None and account.customer_id != customer.pk:
            self.add_error("email", "This address already logs in for another customer.")
        return cleaned


@admin.register(PortalAccount)
class PortalAccountAdmin(admin.ModelAdmin):
    list_display = ["email", "customer", "active", "invited_at", "last_login"]
    list_filter = ["user__is_active"]
    search_fields = ["user__email", "customer__external_id", "customer__name"]
    list_select_related = ["user", "customer"]
    autocomplete_fields = ["customer"]
    actions = ["resend_invitation", "disable", "enable"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = InviteForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["customer", "email"] if obj is None else ["customer", "user", "invited_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["customer", "user", "invited_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return
        account = portal_account_invite(
            customer=form.cleaned_data["customer"], email=form.cleaned_data["email"]
        )
        obj.pk, obj.user = account.pk, account.user
        obj._state.adding = False

    @admin.display(description="e-mail", ordering="user__email")
    def email(self, account: PortalAccount) -> str:
        return account.user.email

    @admin.display(boolean=True, ordering="user__is_active")
    def active(self, account: PortalAccount) -> bool:
        return account.user.is_active

    @admin.display(ordering="user__last_login")
    def last_login(self, account: PortalAccount):
        return account.user.last_login

    @admin.action(description="Re-send the invitation e-mail")
    def resend_invitation(self, request, queryset):
        for account in queryset.select_related("user", "customer"):
            portal_account_invite(customer=account.customer, email=account.user.email)
        self.message_user(request, f"{queryset.count()} invitation(s) sent.")

    @admin.action(description="Disable the selected logins")
    def disable(self, request, queryset):
        count = User.objects.filter(portal_account__in=queryset).update(is_active=False)
        self.message_user(request, f"{count} login(s) disabled.")

    @admin.action(description="Enable the selected logins")
    def enable(self, request, queryset):
        count = User.objects.filter(portal_account__in=queryset).update(is_active=True)
        self.message_user(request, f"{count} login(s) enabled.")
