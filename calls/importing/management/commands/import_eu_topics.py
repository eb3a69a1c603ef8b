from django.core.management.base import BaseCommand, CommandError

from calls.importing.base import FeedError
from calls.importing.eu_topics import DEFAULT_FILTER, EuTopics, TopicRelevance, read_api, read_file, search_url
from calls.importing.http import JsonFeed
from calls.importing.management.commands.import_aides_territoires import (
    add_feed_scope_arguments,
    whole_feed_said,
    write_report,
)


class Command(BaseCommand):
    help = (
        "Import the topics of the EU Funding & Tenders portal relevant to the registry (health cluster, EIC, IHI, "
        "EU4Health, bioprocessing…) as draft calls for curators to review: from the portal's search API "
        "(EU_SEARCH_API_URL) or a saved answer (--file). Running it again updates imported calls only where "
        "curators have not changed them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", help="a saved answer of the search API (a page, a list of pages or of results)")
        parser.add_argument("--filter", help=f"a YAML relevance file (identifiers, keywords, exclude); "
                                             f"default {DEFAULT_FILTER.name} beside the importer")
        add_feed_scope_arguments(parser, records="topics")
        parser.add_argument("--page-size", type=int, default=100, help="results per page (default 100)")
        parser.add_argument("--delay", type=float, default=1.0, help="seconds between two pages (default 1)")
        parser.add_argument("--retries", type=int, default=4, help="retries of a failed page (default 4)")
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a request gives up")
        parser.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")

    def handle(self, *args, file, filter, partial, whole_feed, page_size, delay, retries, timeout, dry_run,
               **options):
        whole = whole_feed_said(file=file, partial=partial, whole_feed=whole_feed)
        try:
            relevance = TopicRelevance.read(filter, default=TopicRelevance.read(DEFAULT_FILTER)) if filter else None
        except (OSError, ValueError) as error:
            raise CommandError(f"--filter: {error}") from error
        if not 1 <= page_size <= 1000:
            raise CommandError("--page-size: between 1 and 1000")
        try:
            if file:
                topics = read_file(file)
            else:
                feed = JsonFeed(delay=delay, retries=retries, timeout=timeout)
                topics = read_api(url=search_url(), feed=feed, page_size=page_size)
        except (FeedError, OSError) as error:
            raise CommandError(f"Nothing imported: {error}") from error
        importer = EuTopics(relevance=relevance, whole_feed=whole)
        report = importer.run(topics, dry_run=dry_run)
        write_report(self, report, dry_run=dry_run, verbosity=options["verbosity"])
