"""Formatting for the public pages: amounts per language, deadlines, schema.org JSON-LD."""
import json
from decimal import Decimal

from django import template
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import translate_url
from django.utils.formats import number_format
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from calls.choices import DatePrecision, Recurrence, Status
from calls.querysets import today

register = template.Library()

# (threshold, French suffix, English suffix)
UNITS = [
    (10**9, " Md€", "bn"),
    (10**6, " M€", "M"),
    (10**3, " k€", "k"),
]

JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def _short_number(value: Decimal) -> str:
    """Up to two decimals, no trailing zeros, with the active language's decimal separator."""
    text = number_format(value.quantize(Decimal("0.01")), decimal_pos=2)
    separator = number_format(Decimal("0.1"), decimal_pos=1)[1]
    if separator in text:
        text = text.rstrip("0").rstrip(separator)
    return text


@register.filter
def money(value):
    """An amount in euros, short and per language: "1,5 M€" in French, "€1.5M" in English."""
    if value in (None, ""):
        return ""
    amount = Decimal(value)
    english = (get_language() or "fr").startswith("en")
    for threshold, suffix_fr, suffix_en in UNITS:
        if abs(amount) >= threshold:
            number = _short_number(amount / threshold)
            return f"€{number}{suffix_en}" if english else f"{number}{suffix_fr}"
    number = number_format(amount.quantize(Decimal("1")), force_grouping=True)
    return f"€{number}" if english else f"{number} €"


@register.filter
def jsonld(data):
    """Data as a JSON-LD block body: escaped so it cannot close its <script> element."""
    return mark_safe(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(JSON_ESCAPES))


def _as_given(display, precision, on_day, in_period):
    """A date as precise as its source: "on 3 March 2027" for a day, "in 2022" for a year."""
    if precision == DatePrecision.DAY:
        return on_day % {"date": display}
    return in_period % {"period": display}


@register.simple_tag
def deadline_text(call):
    """"Closes in 12 days", "Rolling", "Opens on 1 March 2027", "Closed in 2022"…"""
    status = call.status
    if status == Status.DATES_UNKNOWN:
        return _("Dates not given by the sources")
    if status == Status.UPCOMING:
        if not call.opens_on:
            return _("Opening date not announced")
        return _as_given(call.opens_on_display, call.opens_on_precision,
                         _("Opens on %(date)s"), _("Opens in %(period)s"))
    if status == Status.CLOSED:
        if not call.closes_on:
            return closed_because(call)
        return _as_given(call.closes_on_display, call.closes_on_precision,
                         _("Closed on %(date)s"), _("Closed in %(period)s"))
    deadline = call.upcoming_deadline
    if deadline is None and call.recurrence == Recurrence.PERMANENT:
        return _("Permanent scheme: apply at any time")
    if deadline is None:
        return _("Rolling: no deadline") if call.is_rolling else _("Deadline not stated")
    if deadline == call.closes_on and call.closes_on_precision != DatePrecision.DAY:
        return _("Closes in %(period)s") % {"period": call.closes_on_display}
    days = (deadline - today()).days
    if days == 0:
        return _("Closes today")
    return ngettext("Closes in %(days)d day", "Closes in %(days)d days", days) % {"days": days}


def closed_because(call) -> str:
    """Why a call without a closing date reads closed: its past edition year, its page saying it
    stopped, its next edition having opened, else its laureates (the evidence `calls.date_facts`
    closes it on)."""
    if call.opens_on is None and call.edition_year is not None and call.edition_year < today().year:
        return _("Closed: %(year)s edition") % {"year": call.edition_year}
    if call.discontinued:
        return _("Closed: stopped, according to its page")
    if call.opens_on is None:
        succeeded_on = call.card_succeeded_on if hasattr(call, "card_succeeded_on") else call.index.succeeded_on
        if succeeded_on is not None and succeeded_on <= today():
            return _("Closed: its next edition has opened")
        return _("Closed: laureates announced")
    return _("Closed")


@register.simple_tag
def language_alternates(request):
    """The page in each of the site's languages (hreflang links), French as the default."""
    path = request.get_full_path()
    links = [{"hreflang": code, "url": request.build_absolute_uri(translate_url(path, code))}
             for code, _name in settings.LANGUAGES]
    french = next(link["url"] for link in links if link["hreflang"] == "fr")
    return [*links, {"hreflang": "x-default", "url": french}]


@register.simple_tag
def range_text(low, high, unit=""):
    """A min–max pair as "3–6", "from 3", "up to 6", or "" when neither is known."""
    if low is not None and high is not None:
        return f"{low}{unit}" if low == high else f"{low}–{high}{unit}"
    if low is not None:
        return _("from %(value)s") % {"value": f"{low}{unit}"}
    if high is not None:
        return _("up to %(value)s") % {"value": f"{high}{unit}"}
    return ""


@register.simple_tag
def call_jsonld(call, request):
    """schema.org description of a call: a MonetaryGrant with its funders, amounts and how to apply."""
    url = request.build_absolute_uri(call.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        "@type": "MonetaryGrant",
        "@id": url,
        "url": url,
        "identifier": call.slug,
        "name": call.title,
        "description": call.summary or call.description,
        "funder": [
            {
                "@type": "Organization",
                "name": role.funder.name,
                "url": request.build_absolute_uri(role.funder.get_absolute_url()),
                **({"sameAs": role.funder.website} if role.funder.website else {}),
            }
            for role in call.funder_roles.all()
        ],
    }
    amount = {"@type": "MonetaryAmount", "currency": "EUR"}
    if call.max_ceiling_eur is not None:
        amount["maxValue"] = call.max_ceiling_eur
    if call.floor_eur is not None:
        amount["minValue"] = call.floor_eur
    if len(amount) > 2:
        data["amount"] = amount
    if call.apply_url:
        data["potentialAction"] = {"@type": "ApplyAction", "target": call.apply_url}
    return jsonld(data)
