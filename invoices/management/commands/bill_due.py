"""python manage.py bill_due [--now ISO8601]: the beat close, synchronously. Its report names
only what this run did: a run going on at the same time reports the rest."""

from datetime import UTC

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core import display
from invoices.services import subscriptions_due, subscriptions_schedule_unscheduled
from invoices.services.failures import (
    drafts_finalize_due_isolated,
    subscription_bill_due_isolated,
)


class Command(BaseCommand):
    help = (
        "Bill every subscription with a billing due (as beat does), then finalize drafts whose "
        "grace period is over. --now pretends it is that time (scripted checks, catch-up)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", help="ISO 8601 datetime; default: now")

    def handle(self, *args, now=None, **options):
        moment = timezone.now()
        if now:
            moment = parse_datetime(now)
            if moment is None:
                raise CommandError(f"not an ISO 8601 datetime: {now}")
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=UTC)
        invoices = []
        failed = 0
        scheduled = subscriptions_schedule_unscheduled()
        for subscription_id in subscriptions_due(moment, scheduled=scheduled):
            billed = subscription_bill_due_isolated(subscription_id=subscription_id, now=moment)
            if billed is None:  # recorded as a billing failure; the others go on
                failed += 1
                continue
            invoices += billed
        finalized, failed_drafts = drafts_finalize_due_isolated(now=moment)  # this run's only
        failed += failed_drafts
        for invoice in invoices:
            invoice.refresh_from_db()
            self.stdout.write(
                f"{invoice.number or 'draft'}  {invoice.customer.external_id}  "
                f"{display.money(invoice.total_amount_cents, invoice.currency)}  {invoice.status}"
            )
        for invoice in finalized:
            self.stdout.write(f"finalized {invoice.number or invoice.status}")
        self.stdout.write(
            f"{len(invoices)} invoice(s) created, {len(finalized)} draft(s) finalized."
        )
        if failed:
            self.stdout.write(
                f"{failed} subscription(s) could not be billed: see Billing failures in the admin."
            )
