"""Threads released at once by a barrier, each with its own database connection (PostgreSQL
tests of races: closes, follow-ups, terminations)."""

import threading

from django.db import connections


def race(targets: list) -> list[Exception]:
    """Run each callable in its own thread, all starting together; the errors they raised."""
    barrier = threading.Barrier(len(targets))
    errors: list[Exception] = []

    def run(target):
        try:
            barrier.wait()
            target()
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
