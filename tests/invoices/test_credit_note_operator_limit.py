"""The billing operator's credit-note limit is per invoice and cumulative, enforced by the
service (admin or not): it cannot be split over several notes, nor raced past."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core import roles
from core.errors import RuleViolation
from customers.services import customer_upsert
from invoices.models import CreditNote
from invoices.services.credit_notes import credit_note_create, credit_note_void
from tests.payments.helpers import finalized_invoice
from tests.races import race

LIMIT = 1000


@pytest.fixture
def invoice(db, settings):
    settings.CREDIT_NOTE_OPERATOR_LIMIT_CENTS = LIMIT
    customer_upsert(data={"external_id": "acme", "name": "Acme", "currency": "USD"})
    return finalized_invoice(4200)


def note(invoice, cents: int, *, by_operator: bool = True) -> CreditNote:
    data = {
        "invoice_id": str(invoice.lago_id),
        "reason": "other",
        "items": [{"fee_id": str(invoice.fees.get().lago_id), "amount_cents": cents}],
    }
    return credit_note_create(data=data, by_operator=by_operator)


def totals(invoice) -> list[int]:
    return list(invoice.credit_notes.order_by("pk").values_list("total_amount_cents", flat=True))


@pytest.mark.django_db
def test_an_operator_cannot_split_the_limit_over_two_notes(invoice):
    assert note(invoice, 600).issued_by_operator is True
    with pytest.raises(RuleViolation) as refused:
        note(invoice, 600)  # 600 + 600 = 1,200 > 1,000
    assert refused.value.code == "credit_note_above_limit"
    assert refused.value.message == (
        "Above $10.00 on this invoice ($4.00 left): a billing admin issues it."
    )
    assert totals(invoice) == [600]
    note(invoice, 400)  # 600 + 400 = 1,000: exactly the limit
    assert totals(invoice) == [600, 400]


@pytest.mark.django_db
def test_notes_of_billing_admins_neither_count_nor_are_limited(invoice):
    note(invoice, 3000, by_operator=False)
    assert note(invoice, 1000).total_amount_cents == 1000
    assert totals(invoice) == [3000, 1000]


@pytest.mark.django_db
def test_a_voided_credit_no_longer_counts_toward_the_limit(invoice):
    credit_note_void(note=note(invoice, 900))
    assert note(invoice, 900).total_amount_cents == 900
    with pytest.raises(RuleViolation):
        note(invoice, 200)  # 900 + 200 > 1,000; the voided 900 is not counted
    assert totals(invoice) == [900, 900]


@pytest.mark.django_db
def test_the_limit_is_per_invoice(invoice):
    note(invoice, 1000)
    with pytest.raises(RuleViolation):
        note(invoice, 1)
    other = finalized_invoice_for("beta")
    assert note(other, 1000).total_amount_cents == 1000


def finalized_invoice_for(external_id: str):
    from datetime import UTC, datetime

    import time_machine

    from customers.services import subscription_create
    from invoices.services import subscription_bill_due

    customer_upsert(data={"external_id": external_id, "name": "Beta", "currency": "USD"})
    with time_machine.travel(datetime(2024, 4, 1, tzinfo=UTC), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": external_id, "plan_code": "pro", "external_id": "s2"}
        )
    boundary = datetime(2024, 5, 1, 0, 1, tzinfo=UTC)
    [other] = subscription_bill_due(subscription_id=subscription.pk, now=boundary)
    return other


def operator(client):
    user = get_user_model().objects.create_user("operator", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.OPERATOR))
    client.force_login(user)
    return client


def issue_in_admin(client, invoice, cents: int) -> str:
    fee = invoice.fees.get()
    response = client.post(
        f"/admin/invoices/invoice/{invoice.pk}/credit-note/",
        {"reason": "other", f"fee_{fee.lago_id}": cents, "issue": "1"},
        follow=True,
    )
    return response.content.decode()


@pytest.mark.django_db
def test_an_operator_in_the_admin_cannot_split_the_limit_either(client, invoice):
    operator(client)
    assert "issued" in issue_in_admin(client, invoice, 900)
    refused = issue_in_admin(client, invoice, 900)
    assert "credit_note_above_limit" in refused and "a billing admin issues it" in refused
    assert totals(invoice) == [900]
    assert CreditNote.objects.get().issued_by_operator is True


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_operator_notes_issued_at_once_cannot_pass_the_limit_together(invoice):
    errors = race([lambda: note(invoice, 600), lambda: note(invoice, 600)])
    assert [error.code for error in errors] == ["credit_note_above_limit"]
    assert totals(invoice) == [600]
