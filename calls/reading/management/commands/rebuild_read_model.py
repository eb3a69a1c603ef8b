"""Rebuild the read model of every call from scratch, and say which rows had drifted."""
from django.core.management.base import BaseCommand

from calls.reading import read_model


class Command(BaseCommand):
    help = "Rebuild the read model (calls' stored date facts, facets, search document) and report drift."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Exit with status 1 if any row had drifted.")
        parser.add_argument(
            "--missing", action="store_true",
            help="Only build the rows of calls that have none (run on every start; cheap when none is missing).",
        )

    def handle(self, *args, check=False, missing=False, **options):
        if missing:
            built = read_model.fill_missing()
            if built:
                self.stdout.write(f"read model built for {built} call(s) that had none")
            return
        drifts = read_model.rebuild()
        for drift in drifts:
            self.stdout.write(f"drift: call {drift.call_id}: {', '.join(drift.fields)}")
        self.stdout.write(f"read model rebuilt; {len(drifts)} row(s) had drifted")
        if check and drifts:
            raise SystemExit(1)
