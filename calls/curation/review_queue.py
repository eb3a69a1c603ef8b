"""What waits for curators: the lists the admin's index counts and the curators' daily digest tells of.

Each list is a rule of the registry, named once here, linking to the admin's list that shows it:
partners' submissions and imported drafts still drafts, calls with a feed's value or a flag to
settle (likely duplicates among them), visitors' reports not handled, calls to re-verify.
"""
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from calls.choices import PublicationState
from calls.importing import base as importers
from calls.importing import source_checks
from calls.models import Call, PublicReport


def _drafts():
    return Call.objects.filter(publication_state=PublicationState.DRAFT)


@dataclass(frozen=True)
class WaitingList:
    """One list of what waits: its `key`, its `label`, its admin list (`url_name`, `query`), its items."""

    key: str
    label: object
    url_name: str
    query: str
    items: object  # () -> a queryset of the waiting entries, or a collection of their ids

    def link(self) -> str:
        """The admin list's path, in the active language."""
        return reverse(self.url_name) + (f"?{self.query}" if self.query else "")

    def ids(self) -> set:
        items = self.items()
        return set(items.values_list("pk", flat=True)) if hasattr(items, "values_list") else set(items)

    def count(self) -> int:
        items = self.items()
        return items.count() if hasattr(items, "values_list") else len(items)


WAITING_LISTS = [
    WaitingList("partner", _("Partners' submissions to review"), "admin:calls_call_changelist",
                "origin=partner&publication_state__exact=draft", lambda: importers.submitted_by_a_partner(_drafts())),
    WaitingList("imported", _("Imported drafts to review"), "admin:calls_call_changelist",
                "origin=imported&publication_state__exact=draft", lambda: importers.imported_from_a_feed(_drafts())),
    WaitingList("review", _("Calls with a feed's value or a flag to settle"), "admin:calls_call_changelist",
                "origin=review", lambda: importers.to_review(Call.objects.all())),
    WaitingList("reports", _("Visitors' reports and proposed calls to handle"),
                "admin:calls_publicreport_changelist", "handled=no",
                lambda: PublicReport.objects.filter(handled_at__isnull=True)),
    WaitingList("reverify", _("Calls whose sources are to re-verify"), "admin:calls_calltoreverify_changelist", "",
                lambda: list(source_checks.to_reverify())),
]
