"""Search page helpers: facet choices with counts, removable active filters, why a call matches."""
from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import npgettext

from calls.choices import Scope
from calls.site.templatetags.registry_format import money, range_text

register = template.Library()

# Filters an applicant reads a "why it matches" word for, in this order.
MATCHED_FILTERS = ("region", "beneficiary", "amount", "trl")


def _selected(bound_field) -> list[str]:
    value = bound_field.value()
    if value in (None, ""):
        return []
    return [str(item) for item in value] if isinstance(value, list | tuple) else [str(value)]


@register.simple_tag
def facet_options(bound_field, facets):
    """The choices of a filter, each with whether it is chosen and how many calls it would give."""
    counts = (facets or {}).get(bound_field.name)
    selected = _selected(bound_field)
    options = []
    for index, (value, label) in enumerate(bound_field.field.choices):
        value = str(value)
        if value == "":
            continue
        count = counts.get(value, 0) if counts is not None else None
        options.append({
            "value": value, "label": label, "checked": value in selected, "count": count,
            "id": f"id_{bound_field.name}_{index}",
        })
    return options


# The choices are written in Python, not with a template loop: a search page lists hundreds of
# them (every funder and programme), and template nodes (or format_html) per choice were most of
# the page's time. Every value and label is escaped.
def _checkbox(name, option, calls_words):
    chosen = option["checked"]
    count = option["count"]
    count_html = "" if count is None else (
        f' <span class="count"><span class="visually-hidden">(</span>{count}'
        f'<span class="visually-hidden"> {calls_words(count)})</span></span>'
    )
    return (
        f'<li class="choice{" choice--empty" if count == 0 and not chosen else ""}">\n'
        f'<input type="checkbox" name="{name}" value="{escape(option["value"])}" id="{option["id"]}"'
        f'{" checked" if chosen else ""}>\n'
        f'<label for="{option["id"]}">{escape(option["label"])}{count_html}</label>\n</li>'
    )


@register.simple_tag
def checkbox_choices(bound_field, facets):
    """The `<li>` of each choice of a filter shown as checkboxes, with its count (a choice that
    would give no call, and isn't chosen, is marked empty)."""
    name = escape(bound_field.name)
    words = {}

    def calls_words(count):
        """"call" or "calls" as the count asks, in the page's language (read aloud: "(1 appel)")."""
        if count not in words:
            words[count] = escape(npgettext("facet count", "call", "calls", count))
        return words[count]

    return mark_safe("\n".join(_checkbox(name, option, calls_words) for option in facet_options(bound_field, facets)))


def _option(option):
    count = "" if option["count"] is None else f" ({option['count']})"
    selected = " selected" if option["checked"] else ""
    return f'<option value="{escape(option["value"])}"{selected}>{escape(option["label"])}{count}</option>'


@register.simple_tag
def select_choices(bound_field, facets):
    """The `<option>` of each choice of a filter shown as a list, with its count in brackets."""
    return mark_safe("\n".join(_option(option) for option in facet_options(bound_field, facets)))


def _value_labels(bound_field) -> dict[str, str]:
    if bound_field.name in ("amount", "amount_max"):
        return {}
    choices = getattr(bound_field.field, "choices", None)
    return {str(value): label for value, label in choices} if choices is not None else {}


@register.simple_tag
def active_filters(request, filterset):
    """The filters the visitor chose (and that are valid), each with the URL that removes it."""
    valid = filterset.form.cleaned_data if filterset.is_bound else {}
    found = []
    for bound_field in filterset.form:
        name = bound_field.name
        if name == "ordering" or name not in request.GET or name not in valid:
            continue
        values = [value for value in request.GET.getlist(name) if value != ""]
        labels = _value_labels(bound_field) if values else {}
        for value in values:
            params = request.GET.copy()
            params.setlist(name, [other for other in values if other != value])
            params.pop("page", None)
            label = money(value) if name in ("amount", "amount_max") else labels.get(value, value)
            found.append({"name": name, "field": bound_field.label, "label": label, "url": "?" + params.urlencode()})
    return found


MATCH, NOT_STATED = "match", "not_stated"


def _region_reason(call, code):
    """(state, word): a regional call of that region, or a call open to the whole of France…"""
    if call.scope == Scope.REGIONAL:
        name = call.card.region_name(code)
        return (MATCH, name) if name else (NOT_STATED, _("not stated"))
    return MATCH, {
        Scope.NATIONAL: _("All of France"), Scope.EUROPEAN: _("All of Europe"),
        Scope.INTERNATIONAL: _("International"),
    }.get(call.scope, call.get_scope_display())


def _beneficiary_reason(call, codes):
    stated = call.card.applicants_among(codes)
    if stated:
        return MATCH, ", ".join(stated)
    return NOT_STATED, _("not stated")


def _amount_reason(call):
    ceiling = getattr(call, "max_ceiling", None)
    if ceiling is None:
        return NOT_STATED, _("not stated")
    return MATCH, _("up to %(value)s") % {"value": money(ceiling)}


def _trl_reason(call):
    if call.trl_min is None and call.trl_max is None:
        return NOT_STATED, _("not stated")
    return MATCH, range_text(call.trl_min, call.trl_max)


@register.simple_tag
def match_reasons(call, filterset):
    """Why a call matches the applicant's own filters (region, beneficiary, amount, TRL), in a word each.

    Each reason is a match (the source says so: shown in green) or not stated by the source
    (neutral: the call is kept since it may apply). A call that does not match is not listed at
    all: the filters drop it.
    """
    if not getattr(filterset, "is_bound", False) or not hasattr(filterset.form, "cleaned_data"):
        return []
    chosen = filterset.form.cleaned_data
    reasons = []
    if chosen.get("region"):
        reasons.append((_("Region"), *_region_reason(call, chosen["region"])))
    if chosen.get("beneficiary"):
        reasons.append((_("Beneficiary"), *_beneficiary_reason(call, set(chosen["beneficiary"]))))
    if chosen.get("amount") is not None:
        reasons.append((_("Ceiling"), *_amount_reason(call)))
    if chosen.get("trl") is not None:
        reasons.append((_("TRL"), *_trl_reason(call)))
    return [{"filter": name, "state": state, "word": word} for name, state, word in reasons]


@register.simple_tag
def errors_outside(filterset, shown):
    """Errors of filters the page does not show a field for (API-only ones such as updated_since)."""
    shown = set(shown.split())
    return [(filterset.form[name].label, errors) for name, errors in filterset.form.errors.items()
            if name not in shown]
