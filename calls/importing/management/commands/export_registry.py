import json
import sys

import yaml
from django.core.management.base import BaseCommand

from calls.importing.dumping import dump_registry


class Command(BaseCommand):
    help = (
        "Write a complete, versioned dump of the registry (every publication state, sources, laureates, "
        "editions) as JSON or YAML; `load_registry FILE` restores it into an empty database."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="output file (.json, .yaml); standard output if omitted")

    def handle(self, *args, path=None, **options):
        data = dump_registry()
        if path and path.endswith((".yaml", ".yml")):
            text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        else:
            text = json.dumps(data, ensure_ascii=False, indent=1)
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            self.stderr.write(self.style.SUCCESS(f"Registry written to {path}: {len(data['calls'])} calls."))
        else:
            sys.stdout.write(text)
