"""Writes of usage: ingestion (single, batch, import)."""

from usage.services.ingest import IngestResult, StoredEvent, events_ingest

__all__ = ["IngestResult", "StoredEvent", "events_ingest"]
