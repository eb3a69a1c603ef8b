from django.core.management.base import BaseCommand, CommandError

from calls.importing.base import RecordError
from calls.importing.generic import MappedImporter, Mapping, MappingError
from calls.importing.management.commands.import_aides_territoires import (
    add_feed_scope_arguments,
    whole_feed_said,
    write_report,
)


class Command(BaseCommand):
    help = (
        "Import calls from a JSON or CSV export (a partner portal's…) through a mapping file, as drafts for "
        "curators to review, with the same matching, update and conflict rules as import_aides_territoires."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the JSON or CSV export")
        parser.add_argument("--mapping", required=True, help="the YAML mapping file (see calls/importing/generic.py)")
        add_feed_scope_arguments(parser, records="calls")
        parser.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")

    def handle(self, *args, file, mapping, partial, whole_feed, dry_run, **options):
        try:
            importer = MappedImporter(Mapping.read(mapping))
            records = importer.read(file)
        except (MappingError, RecordError, OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Nothing imported: {error}") from error
        # The mapping may say its exports are whole (`whole_file: true`); --partial says this one is not.
        said_whole = whole_feed_said(file=file, partial=partial, whole_feed=whole_feed)
        importer.whole_feed = (said_whole or importer.mapping.whole_file) and not partial
        report = importer.run(records, dry_run=dry_run)
        write_report(self, report, dry_run=dry_run, verbosity=options["verbosity"])
