"""python manage.py import_events FILE [--format csv|jsonl] [--mark-billed] [--rejects PATH]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from usage.importing import import_events, rows_from_csv, rows_from_jsonl


class Command(BaseCommand):
    help = (
        "Import historical events (CSV or JSON Lines, streamed, any size). Duplicates are "
        "skipped, bad rows written with their reasons to FILE.rejected.jsonl. --mark-billed "
        "keeps imported usage out of every future invoice."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", choices=["csv", "jsonl"])
        parser.add_argument("--mark-billed", action="store_true")
        parser.add_argument("--rejects", help="where to write rejected rows")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, file: str, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        kind = options["format"] or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
        rejects_path = Path(options["rejects"] or f"{path}.rejected.jsonl")
        with (
            path.open(newline="", encoding="utf-8") as source,
            rejects_path.open("w", encoding="utf-8") as rejects,
            tqdm(unit=" rows", disable=options["no_progress"], file=self.stderr) as progress,
        ):
            rows = rows_from_csv(source) if kind == "csv" else rows_from_jsonl(source)
            summary = import_events(
                rows, mark_billed=options["mark_billed"], rejects=rejects, progress=progress
            )
        self.stdout.write(
            f"rows: {summary.rows}  imported: {summary.imported}  "
            f"duplicates: {summary.duplicates}  unmatched: {summary.unmatched}  "
            f"rejected: {summary.rejected}"
            + (f" (reasons in {rejects_path})" if summary.rejected else "")
        )
