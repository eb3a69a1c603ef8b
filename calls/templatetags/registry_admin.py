"""What the admin's index shows first: what waits for a curator, each count linking to its list."""
from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from calls import source_checks
from calls.choices import PublicationState
from calls.importers import base as importers
from calls.models import Call, PublicReport

register = template.Library()


@register.simple_tag(takes_context=True)
def waiting_for_curators(context):
    """[(label, count, link)] for a curator who may change calls; nothing for anyone else."""
    user = context["request"].user
    if not user.has_perm("calls.change_call"):
        return []
    calls = reverse("admin:calls_call_changelist")
    drafts = Call.objects.filter(publication_state=PublicationState.DRAFT)
    return [
        (_("Partners' submissions to review"), importers.submitted_by_a_partner(drafts).count(),
         f"{calls}?origin=partner&publication_state__exact=draft"),
        (_("Imported drafts to review"), importers.imported_from_a_feed(drafts).count(),
         f"{calls}?origin=imported&publication_state__exact=draft"),
        (_("Calls with a feed's value or a flag to settle"), importers.to_review(Call.objects).count(),
         f"{calls}?origin=review"),
        (_("Visitors' reports and proposed calls to handle"),
         PublicReport.objects.filter(handled_at__isnull=True).count(),
         f"{reverse('admin:calls_publicreport_changelist')}?handled=no"),
        (_("Calls whose sources are to re-verify"), len(source_checks.to_reverify()),
         reverse("admin:calls_calltoreverify_changelist")),
    ]
