"""What a call's card shows in a list (the search, the home page, a funder's or a programme's
page), read from the read model: the call's stored document (`CallIndex.document`) gives its
funders, beneficiaries, themes and regions, so a page of cards is one query for its calls, with
no related rows fetched and no model instantiated per funder or theme.

`Call.objects.for_cards()` selects those parts of the document with the listing annotations;
`attach_cards()` gives a page of calls their cards, and `Call.card` reads them (for a call fetched
otherwise, from its own rows: the same card, more queries).
"""
import dataclasses

from django.utils.translation import gettext as _

from calls.choices import REGIONS, AidForm, Beneficiary, beneficiaries_who_may_apply
from calls.models.reference import Theme

# The parts of the stored document a card reads, each annotated by `for_cards()` as `card_<key>`.
DOCUMENT_KEYS = ("funders", "beneficiaries", "themes", "regions", "aid_forms")


@dataclasses.dataclass(frozen=True)
class Card:
    """The related facts of a call's card, as labels in the active language."""

    funder_names: tuple[str, ...]
    beneficiary_codes: tuple[str, ...]
    themes: tuple[str, ...]
    region_codes: tuple[str, ...]
    aid_form_codes: tuple[str, ...]

    @property
    def beneficiaries(self) -> list[str]:
        """The beneficiaries' labels, in the vocabulary's order (by code, as their rows)."""
        return self.beneficiaries_among(Beneficiary.values)

    def beneficiaries_among(self, codes) -> list[str]:
        """The labels of the beneficiaries the call names among `codes`, in the vocabulary's order."""
        return [str(Beneficiary(code).label) for code in self.beneficiary_codes if code in codes]

    def applicants_among(self, codes) -> list[str]:
        """Why applicants `codes` may apply, in words: "Start-up" for a call naming start-ups,
        "SME (start-ups included)" for one naming SMEs only (`beneficiaries_who_may_apply`)."""
        words = []
        for applicant, named in beneficiaries_who_may_apply(self.beneficiary_codes).items():
            if applicant not in codes:
                continue
            if applicant == named:
                words.append(str(Beneficiary(applicant).label))
            else:
                words.append(_("%(named)s (%(applicant)s included)") % {
                    "named": Beneficiary(named).label, "applicant": Beneficiary(applicant).label})
        return sorted(set(words), key=words.index)

    @property
    def aid_forms(self) -> list[str]:
        """The forms of aid's labels, in the vocabulary's order (by code, as their rows)."""
        return [str(AidForm(code).label) for code in self.aid_form_codes if code in AidForm.values]

    @property
    def regions(self) -> list[str]:
        """The names of the regions the call names, by name."""
        return sorted(REGIONS[code] for code in self.region_codes if code in REGIONS)

    def region_name(self, code: str) -> str | None:
        """The name of region `code` when the call names it."""
        return REGIONS.get(code) if code in self.region_codes else None


def theme_names() -> dict[str, tuple[int, str]]:
    """{slug: (rank, name in the active language)} of every theme, in the themes' order (one query)."""
    return {theme.slug: (rank, theme.label) for rank, theme in enumerate(Theme.objects.all())}


def card_of(call, themes: dict[str, tuple[int, str]] | None = None) -> Card:
    """The card of `call`: from its stored document when `for_cards()` selected it, else from its
    rows. `themes` is `theme_names()`, read once for a page of cards."""
    if not has_document(call):
        return Card(
            funder_names=tuple(role.funder.name for role in call.funder_roles.all()),
            beneficiary_codes=tuple(sorted(b.code for b in call.beneficiaries.all())),
            themes=tuple(theme.label for theme in call.themes.all()),
            region_codes=tuple(region.code for region in call.regions.all()),
            aid_form_codes=tuple(sorted(a.code for a in call.aid_forms.all())),
        )
    themes = theme_names() if themes is None else themes
    ranked = sorted(themes[slug] for slug in call.card_themes or [] if slug in themes)
    return Card(
        funder_names=tuple(funder["name"] for funder in call.card_funders or []),
        beneficiary_codes=tuple(sorted(call.card_beneficiaries or [])),
        themes=tuple(label for _rank, label in ranked),
        region_codes=tuple(call.card_regions or []),
        aid_form_codes=tuple(sorted(call.card_aid_forms or [])),
    )


def has_document(call) -> bool:
    """Whether `call` was read with `for_cards()` (its card comes from the read model)."""
    return hasattr(call, "card_funders")


def attach_cards(calls) -> list:
    """Give each of `calls` its card (`call.card`), reading the themes' names once. Returns the calls."""
    calls = list(calls)
    themes = theme_names() if any(has_document(call) for call in calls) else None
    for call in calls:
        call.card = card_of(call, themes)
    return calls


def calls_with_cards(queryset, ids) -> list:
    """The calls of `queryset` with these ids, in the ids' order, each with its card: a page of
    cards read by id after the page's ids were sorted (a call gone since is left out)."""
    found = {call.pk: call for call in attach_cards(queryset.filter(pk__in=ids))} if ids else {}
    return [found[pk] for pk in ids if pk in found]
