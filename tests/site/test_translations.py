"""Every interface string in both languages: the catalogues hold every string the code and the
templates use (none missing), each translated (none empty, none fuzzy), in French and English."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(settings.BASE_DIR)
LANGUAGES = ("fr", "en")
STATISTICS = re.compile(
    r"(\d+) translated messages?(?:, (\d+) fuzzy translations?)?(?:, (\d+) untranslated messages?)?")


def statistics(po: Path) -> tuple[int, int, int]:
    """(translated, fuzzy, untranslated) as gettext's msgfmt counts them."""
    result = subprocess.run(["msgfmt", "--statistics", "-o", "/dev/null", str(po)],
                            capture_output=True, text=True, check=True)
    match = STATISTICS.search(result.stderr)
    assert match, result.stderr
    return tuple(int(n or 0) for n in match.groups())


def msgids(po: Path) -> set[str]:
    text = po.read_text(encoding="utf-8")
    entries = re.findall(r'^msgid ((?:".*"\n)+)', text + "\n", re.M)
    return {"".join(re.findall(r'"(.*)"', entry)) for entry in entries} - {""}


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_of_the_catalogue_is_translated(language):
    translated, fuzzy, untranslated = statistics(ROOT / "locale" / language / "LC_MESSAGES" / "django.po")
    assert (fuzzy, untranslated) == (0, 0)
    assert translated > 500


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext's xgettext is not installed")
def test_the_catalogues_hold_every_string_the_code_uses():
    """makemessages (which rewrites the project's catalogues: they are put back after it) finds no
    string they lack."""
    catalogues = {language: ROOT / "locale" / language / "LC_MESSAGES" / "django.po" for language in LANGUAGES}
    kept = {language: path.read_bytes() for language, path in catalogues.items()}
    try:
        call_command("makemessages", locale=list(LANGUAGES), verbosity=0, no_obsolete=True,
                     ignore_patterns=[".venv/*", "bench/*", "node_modules/*", "tests/*", "docs/*"])
        used = {language: msgids(path) for language, path in catalogues.items()}
    finally:
        for language, path in catalogues.items():
            path.write_bytes(kept[language])
    for language, path in catalogues.items():
        assert sorted(used[language] - msgids(path)) == [], language
