from django.core.management.base import BaseCommand, CommandError

from calls.importing.base import RecordError
from calls.importing.generic import MappedImporter, Mapping, MappingError
from calls.importing.management.commands.import_aides_territoires import write_report


class Command(BaseCommand):
    help = (
        "Import calls from a JSON or CSV export (a partner portal's…) through a mapping file, as drafts for "
        "curators to review, with the same matching, update and conflict rules as import_aides_territoires."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the JSON or CSV export")
        parser.add_argument("--mapping", required=True, help="the YAML mapping file (see calls/importing/generic.py)")
        parser.add_argument("--partial", action="store_true",
                            help="the file is not the whole export: flag none as gone")
        parser.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")

    def handle(self, *args, file, mapping, partial, dry_run, **options):
        try:
            importer = MappedImporter(Mapping.read(mapping))
            records = importer.read(file)
        except (MappingError, RecordError, OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Nothing imported: {error}") from error
        if partial:
            importer.whole_feed = False
        report = importer.run(records, dry_run=dry_run)
        write_report(self, report, dry_run=dry_run, verbosity=options["verbosity"])
