"""How an entry arriving in the registry (a feed's record, a partner's submission, a visitor's
proposal) is matched with what the registry holds: its funders by name or acronym, and the calls
it likely duplicates. Importers, the API's submissions and the services all use these rules."""
import difflib
import re
import unicodedata

from calls.models import Call, Funder

# How close two titles must be (difflib's ratio, on folded text) for calls to be likely duplicates.
DUPLICATE_TITLE_RATIO = 0.8


def fold(text) -> str:
    """Text for matching: no accents, no case, words separated by single spaces."""
    text = unicodedata.normalize("NFKD", str(text or ""))
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


class FunderIndex:
    """Funders of the registry by every name they are known by (`Funder.known_names`: name,
    acronym, aliases), case and accents ignored. A name that is one funder's name or acronym
    names it before being another's alias."""

    def __init__(self):
        self.by_key = {}
        funders = list(Funder.objects.order_by("pk"))
        for funder in funders:
            for key in (funder.name, funder.acronym):
                if fold(key):
                    self.by_key.setdefault(fold(key), funder)
        for funder in funders:
            for key in funder.alias_list:
                if fold(key):
                    self.by_key.setdefault(fold(key), funder)

    def find(self, name):
        """The funder a feed names, as "Name", "ACRONYM" or "Name (ACRONYM)"; None if not in the registry."""
        candidates = [name]
        if match := re.fullmatch(r"\s*(.+?)\s*\(([^()]+)\)\s*", name):
            candidates += [match.group(2), match.group(1)]
        for candidate in candidates:
            if funder := self.by_key.get(fold(candidate)):
                return funder
        return None

    def match(self, names):
        """Funders found, and a `new_funder` flag for each name not in the registry."""
        funders, flags = [], []
        for name in names:
            funder = self.find(name)
            if funder is None:
                flags.append({"code": "new_funder", "value": name})
            elif funder not in funders:
                funders.append(funder)
        return funders, flags


def likely_duplicates(call, funders):
    """Other calls sharing a funder with `call`, on the same dates, under a close title.

    The same dates: the same deadline, and the same opening date when `call` gives one (a visitor
    proposing a call gives only its deadline). Imported drafts, partners' submissions and visitors'
    proposals are all checked by this rule (`services.flag_likely_duplicates` for the last two).
    """
    if not funders:
        return []
    same_dates = {"closes_on": call.closes_on}
    if call.opens_on is not None:
        same_dates["opens_on"] = call.opens_on
    candidates = (
        Call.objects.filter(funders__in=funders, **same_dates)
        .exclude(pk=call.pk).distinct().order_by("slug")
    )
    title = fold(call.title)
    return [
        other for other in candidates
        if difflib.SequenceMatcher(None, title, fold(other.title)).ratio() >= DUPLICATE_TITLE_RATIO
    ]
