from django.core.management.base import BaseCommand

from calls.loading import DATA_DIR, load_registry, read_data


class Command(BaseCommand):
    help = "Upsert the bundled registry data (every calls/data/*.yaml) by slug; idempotent."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DATA_DIR), help="a data folder, a YAML data file or a JSON dump")

    def handle(self, *args, path, **options):
        stats = load_registry(data=read_data(path))
        summary = ", ".join(f"{key}: {value}" for key, value in sorted(stats.items()))
        self.stdout.write(self.style.SUCCESS(f"Loaded {path} ({summary})"))
