"""Rebuild the read model of every call from scratch, and say which rows had drifted."""
from django.core.management.base import BaseCommand

from calls import read_model


class Command(BaseCommand):
    help = "Rebuild the read model (calls' stored date facts, facets, search document) and report drift."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Exit with status 1 if any row had drifted.")

    def handle(self, *args, check=False, **options):
        drifts = read_model.rebuild()
        for drift in drifts:
            self.stdout.write(f"drift: call {drift.call_id}: {', '.join(drift.fields)}")
        self.stdout.write(f"read model rebuilt; {len(drifts)} row(s) had drifted")
        if check and drifts:
            raise SystemExit(1)
