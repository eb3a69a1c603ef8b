"""Forms of the alerts: subscribe to a search, be reminded of a call's deadline, change an alert."""
from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from calls.alerts.models import Rhythm

# What a query string may weigh when it comes in; the saved search (its valid filters) is shorter.
MAX_RAW_QUERY = 4000


def _page_language():
    code = (get_language() or settings.LANGUAGE_CODE)[:2]
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


class _LanguageField(forms.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=settings.LANGUAGES, label=_("Language of the messages"), **kwargs)


# Domains that name no public mail server: local names and reserved top-level domains (RFC 2606,
# RFC 6761, RFC 6762, RFC 8375), besides IP literals and names without a dot.
LOCAL_DOMAINS = ("localhost", "local", "localdomain", "internal", "intranet", "lan", "home", "corp", "home.arpa",
                 "test", "invalid", "example")


def public_mail_domain(address: str):
    """Refuse an address at a local name, an IP address (`[127.0.0.1]`, `1.2.3.44`), a name without
    a dot or a reserved top-level domain: alerts go to public mailboxes only."""
    domain = address.rpartition("@")[2].lower().rstrip(".")
    labels = domain.split(".")
    if (domain.startswith("[") or len(labels) < 2 or labels[-1].isdigit()
            or any(domain == local or domain.endswith("." + local) for local in LOCAL_DOMAINS)):
        raise forms.ValidationError(
            _("Give an address at a public mail domain (not a local name, an IP address or a name without a dot)."),
            code="local_domain",
        )


class RemindForm(forms.Form):
    """"Remind me before the deadline", on a call's page."""

    email = forms.EmailField(label=_("Email address"), max_length=254, validators=[public_mail_domain])
    language = _LanguageField()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("language", _page_language())
        super().__init__(*args, **kwargs)


class SubscribeForm(RemindForm):
    """"Receive new calls by email", on a search: the search travels as its query string."""

    rhythm = forms.ChoiceField(label=_("How often"), choices=Rhythm.choices, initial=Rhythm.DAILY)
    query = forms.CharField(required=False, max_length=MAX_RAW_QUERY, widget=forms.HiddenInput, strip=False)


class ChangeForm(forms.Form):
    """The rhythm and language of an alert, from the link in its messages."""

    rhythm = forms.ChoiceField(label=_("How often"), choices=Rhythm.choices, required=False)
    language = _LanguageField()


class ChangeSearchForm(forms.Form):
    """Replace an alert's saved search by the search shown (from the search page)."""

    token = forms.CharField(max_length=500, widget=forms.HiddenInput)
    query = forms.CharField(required=False, max_length=MAX_RAW_QUERY, widget=forms.HiddenInput, strip=False)
