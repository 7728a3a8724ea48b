"""Historical import of events from CSV or JSON Lines, streamed in chunks through the same
ingestion service as the API (so dedup and validation are identical)."""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from usage import partitions
from usage.parsing import parse_timestamp
from usage.services import events_ingest

CHUNK = 1000
CSV_FIELDS = {
    "transaction_id",
    "external_subscription_id",
    "external_customer_id",
    "code",
    "timestamp",
    "precise_total_amount_cents",
}


@dataclass
class ImportSummary:
    imported: int = 0
    duplicates: int = 0
    unmatched: int = 0
    rejected: int = 0
    rows: int = 0
    months: set = field(default_factory=set)


def rows_from_jsonl(lines: Iterable[str]) -> Iterator[tuple[int, object]]:
    """(line number, event dict or an error marker) for each non-empty line."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except ValueError:
            yield number, {"__error__": {"line": ["invalid_json"]}}


def rows_from_csv(lines: Iterable[str]) -> Iterator[tuple[int, object]]:
    """Known columns map to event fields; a `properties` column holds JSON; any other column
    becomes a property."""
    reader = csv.DictReader(lines)
    for number, record in enumerate(reader, start=2):
        event: dict = {}
        properties: dict = {}
        error = None
        for key, value in record.items():
            if key is None or value in (None, ""):
                continue
            if key in CSV_FIELDS:
                event[key] = value
            elif key == "properties":
                try:
                    properties.update(json.loads(value))
                except (ValueError, TypeError):
                    error = {"properties": ["invalid_json"]}
            else:
                properties[key] = value
        event["properties"] = properties
        yield number, {"__error__": error} if error else event


def _chunks(rows: Iterator, size: int) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _ensure_partitions(events: list, summary: ImportSummary) -> None:
    """Create the months' partitions before their rows arrive (PostgreSQL)."""
    now = timezone.now()
    for event in events:
        moment = parse_timestamp(event.get("timestamp"), now) if isinstance(event, dict) else None
        if moment is None:
            continue
        month = date(moment.year, moment.month, 1)
        if month not in summary.months:
            summary.months.add(month)
            partitions.ensure_month(month)


def import_events(
    rows: Iterator[tuple[int, object]], *, mark_billed: bool, rejects: io.TextIOBase, progress=None
) -> ImportSummary:
    """Ingest rows chunk by chunk; rejected rows are written to `rejects` as JSON lines."""
    summary = ImportSummary()
    for chunk in _chunks(rows, CHUNK):
        events, keep = [], []  # the rows to ingest and their line numbers
        for number, row in chunk:
            if isinstance(row, dict) and "__error__" in row:
                _reject(rejects, number, row["__error__"], summary)
            else:
                events.append(row)
                keep.append(number)
        _ensure_partitions(events, summary)
        result = events_ingest(raws=events, skip_invalid=True, already_billed=mark_billed)
        for index, errors in sorted(result.rejected.items()):
            _reject(rejects, keep[index], errors, summary, events[index])
        summary.imported += result.stored
        summary.duplicates += result.duplicates
        summary.unmatched += result.unmatched
        summary.rows += len(chunk)
        if progress is not None:
            progress.update(len(chunk))
    return summary


def _reject(rejects, number: int, errors: dict, summary: ImportSummary, event=None) -> None:
    summary.rejected += 1
    record = {"line": number, "errors": errors}
    if event is not None:
        record["event"] = event
    rejects.write(json.dumps(record, default=str) + "\n")
