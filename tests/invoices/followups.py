"""Helpers for the follow-up tests: a stand-in broker that keeps what is enqueued."""

from contextlib import contextmanager
from unittest import mock

from invoices.tasks import usage_followup


@contextmanager
def broker():
    """Enqueued follow-ups are kept (in the list yielded), to be run when the test says, or
    never (a follow-up lost). Only our own enqueue call is replaced."""
    queue: list[tuple] = []

    def enqueue(args, countdown=None, **options):
        queue.append(args)

    with mock.patch.object(usage_followup, "apply_async", side_effect=enqueue):
        yield queue
