from django.core.management.base import BaseCommand, CommandError

from calls.importing.aides_territoires import (
    DEFAULT_RELEVANCE,
    SITE,
    AidesTerritoires,
    api_settings,
    read_api,
    read_file,
)
from calls.importing.base import FeedError, Relevance, reads_whole_feed
from calls.importing.http import JsonFeed


class Command(BaseCommand):
    help = (
        "Import the aids of aides-territoires relevant to the registry as draft calls for curators to review: "
        "from its API (AIDES_TERRITOIRES_API_URL, AIDES_TERRITOIRES_API_TOKEN) or a saved answer (--file). "
        "Running it again updates imported calls only where curators have not changed them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", help="a saved answer of the API (a page, a list of pages or a list of aids)")
        parser.add_argument("--filter", help="a YAML relevance filter (keywords, categories, exclude, audiences)")
        add_feed_scope_arguments(parser, records="aids")
        parser.add_argument("--delay", type=float, default=1.0, help="seconds between two pages (default 1)")
        parser.add_argument("--retries", type=int, default=4, help="retries of a failed page (default 4)")
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a request gives up")
        parser.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")

    def handle(self, *args, file, filter, partial, whole_feed, delay, retries, timeout, dry_run, **options):
        try:
            relevance = Relevance.read(filter, default=DEFAULT_RELEVANCE) if filter else None
        except (OSError, ValueError) as error:
            raise CommandError(f"--filter: {error}") from error
        whole = whole_feed_said(file=file, partial=partial, whole_feed=whole_feed)
        try:
            if file:
                aids, site = read_file(file), SITE
            else:
                settings = api_settings()
                feed = JsonFeed(delay=delay, retries=retries, timeout=timeout)
                aids, site = read_api(**settings, feed=feed), settings["site"]
        except (FeedError, OSError) as error:
            raise CommandError(f"Nothing imported: {error}") from error
        importer = AidesTerritoires(site=site, relevance=relevance, whole_feed=whole)
        report = importer.run(aids, dry_run=dry_run)
        write_report(self, report, dry_run=dry_run, verbosity=options["verbosity"])


def add_feed_scope_arguments(parser, *, records):
    """`--partial` and `--whole-feed`: whether the records read are the origin's whole feed, so
    that the imported ones they lack are flagged as gone (`importers.base.reads_whole_feed`).
    Shared by the import commands."""
    parser.add_argument("--partial", action="store_true",
                        help=f"the {records} read are not the whole feed (a file's default): flag none as gone")
    parser.add_argument(
        "--whole-feed", action="store_true",
        help=f"the file holds the origin's whole feed: flag the imported {records} it lacks as gone from the feed "
             f"(without it, a file import flags none as gone)",
    )


def whole_feed_said(*, file, partial=False, whole_feed=False) -> bool:
    try:
        return reads_whole_feed(from_file=bool(file), partial=partial, whole_feed=whole_feed)
    except ValueError as error:
        raise CommandError(str(error)) from error


def write_report(command, report, *, dry_run, verbosity):
    """Print an import's lines (verbosity ≥ 1) and its summary: shared by the import commands."""
    if verbosity >= 1:
        for line in report.lines():
            command.stdout.write(line)
    prefix = "Dry run, nothing written: " if dry_run else ""
    command.stdout.write(command.style.SUCCESS(prefix + report.summary()))
    if verbosity >= 1 and (report.conflicts or report.flagged):
        command.stdout.write(command.style.WARNING(
            "Review in the admin: Calls › origin: imported from a feed, to review. Lines '!' are fields curators "
            "changed that the feed changed too (the call's page shows the feed's value); '?' are flags."
        ))
