"""French full-text search over calls: what is searched, the query a visitor types, its synonyms.

What is searched: the read model's stored search document (`CallIndex`, written by
`calls.reading.read_model` from `weighted_texts()`): the call's title (weight A); its summary, its
funders' names and acronyms, its programme and the programme's parents (B); its description,
eligibility and type ("Appel à projets", "Call for projects"…) (C); its laureates' organisations
and projects (D). PostgreSQL stores it as a weighted tsvector (`search_vector`, GIN-indexed);
SQLite as plain text (`search_title`, `search_text`: see `plain_text()`).

The query (`q`), read the same way on both databases (`parse_query()`):

- every word must be found (AND), in any order; case and accents are ignored, French words are
  stemmed ("thérapies géniques" finds "thérapie génique");
- words joined by an apostrophe or a hyphen ("innov'up", "start-up") are a phrase: their parts
  must follow each other ("innov'up" doesn't find a text with "innovation" here and "up" there);
- "words in quotes" must follow each other, and are taken literally (no synonyms);
- `-word` or `-"some words"` leaves out the calls that contain them;
- `or` / `ou` between two words or phrases: either will do ("AAP ou AMI");
- the words a French search ignores (`STOPWORDS`: le, la, de, et…) are ignored;
- a term of the sector's thesaurus (`calls.reading.thesaurus`) finds what any synonym of its concept finds
  ("AAP" finds "appels à projets" and the reverse; "CAR-T" finds the calls of cell therapy, whose
  search documents carry the concept's synonyms: `weighted_texts`).

PostgreSQL: each word or phrase is a `phraseto_tsquery` in the `french_unaccent` configuration
(migration 0003), synonyms OR'ed, the rest AND'ed, matched against the stored vector and ranked
by `ts_rank` (title first). SQLite: each word or phrase must be in `search_text`, its words taken
from their start and lightly stemmed (`light_stem`); the rank counts the words found in the title.
"""
import dataclasses
import functools
import operator
import re
import unicodedata

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, F, FloatField, Q, Value, When
from django.utils import translation

from calls.choices import AidForm, Beneficiary, CallType, FunderKind
from calls.reading.thesaurus import THESAURUS

SEARCH_CONFIG = "french_unaccent"

# PostgreSQL's French stop words (tsearch_data/french.stop), which its search ignores. As
# `french_unaccent` unaccents a word before the stop list sees it, it ignores only those written
# without accents ("été" becomes "ete", which it searches): `STOPWORDS` keeps those, so that
# SQLite and the query parser ignore the same words.
POSTGRESQL_FRENCH_STOP_LIST = """
au aux avec ce ces dans de des du elle en et eux il je la le leur lui ma mais me même mes moi mon
ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos
votre vous c d j l à m n s t y été étée étées étés étant étante étants étantes suis es est sommes
êtes sont serai seras sera serons serez seront serais serait serions seriez seraient étais était
étions étiez étaient fus fut fûmes fûtes furent sois soit soyons soyez soient fusse fusses fût
fussions fussiez fussent ayant ayante ayantes ayants eu eue eues eus ai as avons avez ont aurai
auras aura aurons aurez auront aurais aurait aurions auriez auraient avais avait avions aviez
avaient eut eûmes eûtes eurent aie aies ait ayons ayez aient eusse eusses eût eussions eussiez
eussent
"""
# And "a" ("à" unaccented): no word to search for alone (inside a phrase, PostgreSQL still wants it).
STOPWORDS = frozenset(w for w in POSTGRESQL_FRENCH_STOP_LIST.split() if w.isascii()) | {"a"}

# Between two words or phrases of a query: either will do.
OR_WORDS = ("or", "ou")

# Letters unaccent() turns into two (as PostgreSQL's unaccent does), which NFKD leaves alone.
LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def strip_accents(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(LIGATURES))
    return "".join(c for c in text if not unicodedata.combining(c))


def words_of(text: str) -> list[str]:
    """The words of `text` as both databases compare them: lower-cased, unaccented; anything
    but a letter or a digit separates words ("Innov'up" gives "innov", "up")."""
    return re.findall(r"\w+", strip_accents((text or "").lower()))


def plain_text(text: str) -> str:
    """Text as SQLite's search reads it (the read model's `search_title`, `search_text`): its
    words (`words_of`) separated by single spaces."""
    return " ".join(words_of(text))


# Longest first: "régionaux" and "régionales" both come down to "region".
FRENCH_ENDINGS = ("ales", "aux", "ale", "al", "es", "s", "e", "x")


def light_stem(word: str) -> str:
    """A small French stemmer for SQLite: enough for plurals and gender, not a linguist."""
    for ending in FRENCH_ENDINGS:
        if len(word) - len(ending) >= 4 and word.endswith(ending):
            return word[: -len(ending)]
    return word


def call_type_labels(call_type: str) -> list[str]:
    """The call's type as applicants name it, in French and English ("Appel à projets")."""
    if call_type not in CallType.values:
        return []
    labels = []
    for language in ("fr", "en"):
        with translation.override(language):
            labels.append(str(CallType(call_type).label))
    return labels


def vocabulary_labels(call, funders) -> list[str]:
    """The call's themes (French and English names) and the labels of its beneficiaries, forms of
    aid and funders' kinds in French and English: "cell therapy" finds the calls of the theme
    "Thérapie cellulaire", "SME" those open to PME."""
    labels = [name for theme in call.themes.all() for name in (theme.name, theme.name_en)]
    vocabularies = [(Beneficiary, b.code) for b in call.beneficiaries.all()]
    vocabularies += [(AidForm, a.code) for a in call.aid_forms.all()]
    vocabularies += [(FunderKind, f.kind) for f in funders]
    for language in ("fr", "en"):
        with translation.override(language):
            labels += [str(choices(code).label) for choices, code in vocabularies if code in choices.values]
    return list(dict.fromkeys(labels))


def weighted_texts(call, *, programmes, funders) -> dict[str, str]:
    """What a search finds a call by, by weight (A first): the read model's search document.
    The concepts of the thesaurus its texts name by a narrower term add their synonyms (weight C):
    a text of "CAR-T" is found by "thérapie cellulaire" (synonyms find each other at query time,
    so that words in quotes stay literal)."""
    texts = {
        "A": call.title,
        "B": " ".join([call.summary, *(f"{f.name} {f.acronym}" for f in funders), *(p.name for p in programmes)]),
        "C": " ".join([call.description, call.eligibility, *call_type_labels(call.call_type),
                       *vocabulary_labels(call, funders)]),
        "D": " ".join(f"{winner.organisation} {winner.project}" for winner in call.laureates.all()),
    }
    named = concepts_named_in(" ".join(texts.values()))
    texts["C"] = " ".join([texts["C"], *(synonym for concept in named for synonym in concept.synonyms)])
    return texts


# The query language -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Phrase:
    """Words that must follow each other (one word is a phrase too), as `words_of` gives them."""

    words: tuple[str, ...]

    @property
    def key(self) -> tuple[str, ...]:
        """What a phrase is recognised by among the synonyms: its stems, stop words left out."""
        return tuple(light_stem(w) for w in self.words if w not in STOPWORDS)

    @property
    def term_key(self) -> tuple[str, ...]:
        """What a term of the thesaurus is recognised by: its `key`, unless leaving out stop
        words leaves one word of several ("CAR-T" is "car t", not the word "car")."""
        key = self.key
        if len(key) == 1 and len(self.words) > 1:
            return tuple(light_stem(w) for w in self.words)
        return key

    @property
    def text(self) -> str:
        """The phrase as given to PostgreSQL's phraseto_tsquery."""
        return " ".join(self.words)

    def pattern(self) -> str:
        """SQLite: a regular expression over `plain_text`, the phrase's words in a row: a word
        matches the words that begin with its light stem ("therapies": "therapie", "therapies"),
        a short one (acronyms: "AMI", "up") only itself and its plural ("amis", not "amines"); a
        stop word inside the phrase stands for any one word (as its position does on PostgreSQL),
        at its ends it is left out (as PostgreSQL does)."""
        words = list(self.words)
        while words and words[0] in STOPWORDS:
            words.pop(0)
        while words and words[-1] in STOPWORDS:
            words.pop()
        return r"\b" + " ".join(_word_pattern(w) for w in words) + r"\b"


# SQLite: a word this long or shorter matches only itself (and its plural), not longer words.
SHORT_WORD = 3


def _word_pattern(word: str) -> str:
    if word in STOPWORDS:
        return r"\w+"
    if len(word) <= SHORT_WORD:
        return re.escape(word) + r"[sx]?"
    return re.escape(light_stem(word)) + r"\w*"


@dataclasses.dataclass
class Group:
    """One requirement of a query: any of its phrases (the call must contain one of them), or,
    when `excluded`, none of them."""

    phrases: list[Phrase]
    excluded: bool = False


def _phrase(term: str) -> Phrase:
    return Phrase(tuple(words_of(term)))


def _synonym_groups() -> dict[tuple[str, ...], list[Phrase]]:
    """{a term's key: the phrases of its concept's synonyms} for every term of the thesaurus."""
    groups = {}
    for concept in THESAURUS:
        phrases = list(dict.fromkeys(_phrase(s) for s in concept.synonyms))  # "start-up", "start up"
        for term in (*concept.synonyms, *concept.narrower):
            groups[_phrase(term).term_key] = phrases
    return groups


SYNONYM_GROUPS = _synonym_groups()


def _concept_terms() -> list[tuple[tuple[str, ...], object]]:
    """(the stems of a narrower term, its concept), stop words kept: what a text is read for."""
    return [
        (tuple(light_stem(w) for w in _phrase(term).words), concept)
        for concept in THESAURUS for term in concept.narrower
    ]


CONCEPT_TERMS = _concept_terms()


def concepts_named_in(text: str) -> list:
    """The concepts of the thesaurus whose narrower terms `text` names (their words in a row,
    compared as the search compares them), in the thesaurus's order."""
    stems = [light_stem(w) for w in words_of(text)]
    joined = " " + " ".join(stems) + " "
    named = []
    for term, concept in CONCEPT_TERMS:
        if concept not in named and " " + " ".join(term) + " " in joined:
            named.append(concept)
    return [concept for concept in THESAURUS if concept in named]
LONGEST_SYNONYM = max(len(key) for key in SYNONYM_GROUPS)

# A quoted phrase (closing quote optional), or a word; either may start with "-".
TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
# French and typographic quotes are quotes.
QUOTES = str.maketrans({"«": '"', "»": '"', "“": '"', "”": '"', "„": '"'})


@dataclasses.dataclass
class _Item:
    phrase: Phrase
    quoted: bool = False
    excluded: bool = False


def _items(text: str) -> list:
    """The query's words and quoted phrases, in order, with `OR_WORDS` kept as the string "or"."""
    items = []
    for match in TOKEN.finditer(text.translate(QUOTES)):
        minus, quoted, word = match.groups()
        if word is not None:
            if word.lower() in OR_WORDS:
                items.append("or")
                continue
            minus = "-" if word.startswith("-") else ""
            word = word.lstrip("-")
        phrase = Phrase(tuple(words_of(quoted if word is None else word)))
        if phrase.key:  # nothing but stop words or punctuation: nothing to search
            items.append(_Item(phrase, quoted=word is None, excluded=bool(minus)))
    return items


def _with_synonyms(items: list) -> list:
    """Groups from items: the longest run of words that names a synonym becomes its group."""
    groups, i = [], 0
    while i < len(items):
        item = items[i]
        if item == "or":
            groups.append("or")
            i += 1
            continue
        phrases = [item.phrase]
        taken = 1
        if not item.quoted:
            for end in range(min(len(items), i + LONGEST_SYNONYM), i, -1):
                run = items[i:end]
                if any(x == "or" or x.quoted or x.excluded != item.excluded for x in run):
                    continue
                key = sum((x.phrase.key for x in run), ())
                if len(run) == 1 and run[0].phrase.term_key in SYNONYM_GROUPS:
                    key = run[0].phrase.term_key
                if key in SYNONYM_GROUPS:
                    phrases = [*SYNONYM_GROUPS[key]]
                    taken = len(run)
                    break
        groups.append(Group(phrases, excluded=item.excluded))
        i += taken
    return groups


def _join_alternatives(groups: list) -> list[Group]:
    """`a or b`: one group with the phrases of both (an `or` next to an exclusion is ignored)."""
    joined = []
    for index, group in enumerate(groups):
        if group == "or":
            continue
        after_or = index > 0 and groups[index - 1] == "or"
        if after_or and joined and not joined[-1].excluded and not group.excluded:
            joined[-1].phrases.extend(p for p in group.phrases if p not in joined[-1].phrases)
        else:
            joined.append(Group(list(group.phrases), excluded=group.excluded))
    return joined


def parse_query(text: str) -> list[Group]:
    """The query's requirements (see the module's docstring), each a group of phrases."""
    return _join_alternatives(_with_synonyms(_items(text or "")))


# The search ----------------------------------------------------------------------------------


def _postgresql_query(groups: list[Group]):
    def phrase_query(phrase):
        return SearchQuery(phrase.text, config=SEARCH_CONFIG, search_type="phrase")

    parts = []
    for group in groups:
        if group.excluded:  # none of them: NOT a AND NOT b
            parts.extend(~phrase_query(phrase) for phrase in group.phrases)
        else:
            parts.append(functools.reduce(operator.or_, map(phrase_query, group.phrases)))
    return functools.reduce(operator.and_, parts)


def _sqlite_condition(group: Group, field: str) -> Q:
    """One regular expression for the group's phrases (SQLite calls Python's `re` once a row)."""
    return Q(**{f"{field}__regex": "|".join(f"(?:{p.pattern()})" for p in group.phrases)})


def search_calls(queryset, text: str):
    """The calls whose stored search document matches `text`, annotated with `rank` (higher
    first). An empty text searches nothing (all calls); a text with no word to search (only stop
    words or punctuation) finds none."""
    if not (text or "").strip():
        return queryset
    groups = parse_query(text)
    if not groups:
        return queryset.annotate(rank=Value(0.0, output_field=FloatField())).none()
    if connection.vendor == "postgresql":
        query = _postgresql_query(groups)
        return queryset.filter(index__search_vector=query).annotate(
            rank=SearchRank(F("index__search_vector"), query)
        )
    for group in groups:
        condition = _sqlite_condition(group, "index__search_text")
        queryset = queryset.exclude(condition) if group.excluded else queryset.filter(condition)
    title_hits = [
        Case(When(_sqlite_condition(group, "index__search_title"), then=Value(1.0)), default=Value(0.0))
        for group in groups if not group.excluded
    ]
    return queryset.annotate(rank=sum(title_hits, Value(0.0, output_field=FloatField())))
