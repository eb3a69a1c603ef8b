from django.core.management.base import BaseCommand, CommandError

from calls.importing.source_checks import Visitor, check_sources, cited_pages, to_reverify


class Command(BaseCommand):
    help = (
        "Visit every page the registry cites (sources, documents, apply links), politely, and record each answer, "
        "the address after redirects and a fingerprint of the text; then say how many calls are to re-verify "
        "(the admin's Calls to re-verify). Meant to run daily (docs/deploy.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=4, help="pages visited at once, 1 to 4 (default 4)")
        parser.add_argument("--delay", type=float, default=2.0, help="seconds between two visits of a host (2)")
        parser.add_argument("--timeout", type=float, default=20.0, help="seconds before a visit gives up (20)")
        parser.add_argument("--url", action="append", dest="urls", help="visit only this page (repeatable)")
        parser.add_argument("--dry-run", action="store_true", help="visit and print, record nothing")

    def handle(self, *args, concurrency, delay, timeout, urls, dry_run, **options):
        try:
            visitor = Visitor(concurrency=concurrency, delay=delay, timeout=timeout)
        except ValueError as error:
            raise CommandError(str(error)) from error
        report = check_sources(urls or cited_pages(), visitor=visitor, dry_run=dry_run)
        if options["verbosity"] >= 1:
            for line in report.lines():
                self.stdout.write(line)
        prefix = "Dry run, nothing recorded: " if dry_run else ""
        self.stdout.write(self.style.SUCCESS(prefix + report.summary()))
        waiting = to_reverify()
        self.stdout.write(f"{len(waiting)} calls to re-verify (admin: Calls to re-verify)")
