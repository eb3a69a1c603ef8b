from django.core.management.base import BaseCommand

from calls.importing.loading import DATA_DIR, load_registry, read_data


class Command(BaseCommand):
    help = (
        "Seed the registry with the bundled data (every calls/data/*.yaml): add what is missing, touch nothing "
        "that exists. With --update, bring a changed bundled file in field by field, never over a curator's change."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DATA_DIR),
                            help="a data folder, a YAML data file or a JSON dump (default: the bundled data)")
        parser.add_argument("--update", action="store_true",
                            help="update existing entries where curators have not changed them; list the rest")
        parser.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")

    def handle(self, *args, path, update, dry_run, **options):
        report = load_registry(data=read_data(path), update=update, dry_run=dry_run)
        if (update or dry_run) and options["verbosity"] > 0 or options["verbosity"] > 1:
            for line in report.lines():
                self.stdout.write(line)
        if options["verbosity"] == 0:
            return
        prefix = "Dry run, nothing written: " if dry_run else ""
        self.stdout.write(self.style.SUCCESS(f"{prefix}{path}: {report.summary()}"))
        if report.skipped:
            self.stdout.write(self.style.WARNING(
                "Fields marked '!' were changed by curators: settle them in the admin (the call's provenance "
                "shows the bundled value)."
            ))
