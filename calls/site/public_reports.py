"""Visitors, without an account, report an error on a call's page or propose a call.

Each form has Django's CSRF protection, a honeypot field (hidden from people and assistive
technologies; a robot that fills it is thanked and nothing is kept), size limits (each field's,
and the whole request's: `MAX_BODY`), and a rate limit per client address
(`PUBLIC_REPORTS_PER_HOUR`, counted in the cache like the alerts'). What passes becomes a
`PublicReport` for curators (the admin's *Visitors' reports*); a proposed call also becomes a
draft call (`services.suggest_call`). Nothing is ever published by a visitor.
"""
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, TemplateView

from calls import services
from calls.dates import validate_supported_date
from calls.models import Call
from registry.throttling import client_address, hashed, over_limit

MAX_BODY = 20_000  # bytes of a whole form: far above what its fields accept, far below an abuse
MAX_TEXT = 2000


class HoneypotForm(forms.Form):
    """A field people never see nor fill (the template hides it); robots often do."""

    website = forms.CharField(required=False, max_length=200, label=_("Leave this field empty"))

    def filled_by_a_robot(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class ErrorReportForm(HoneypotForm):
    message = forms.CharField(
        label=_("What is wrong on this page?"), min_length=10, max_length=MAX_TEXT, widget=forms.Textarea(
            attrs={"rows": 6}),
        help_text=_("Say which fact is wrong and, if you can, where the right one is published."))
    contact_email = forms.EmailField(label=_("Your email (optional, to answer you)"), required=False, max_length=254)


class SuggestCallForm(HoneypotForm):
    title = forms.CharField(label=_("Name of the call"), min_length=5, max_length=300)
    url = forms.URLField(label=_("Address of its official page"), max_length=500, assume_scheme="https")
    funder_name = forms.CharField(label=_("Funder (optional)"), required=False, max_length=200)
    closes_on = forms.DateField(label=_("Deadline (optional)"), required=False, validators=[validate_supported_date],
                                widget=forms.DateInput(attrs={"type": "date"}))
    message = forms.CharField(label=_("Anything to add (optional)"), required=False, max_length=MAX_TEXT,
                              widget=forms.Textarea(attrs={"rows": 4}))
    contact_email = forms.EmailField(label=_("Your email (optional, to answer you)"), required=False, max_length=254)


class PublicFormView(FormView):
    """What both forms share: the size of the request, the honeypot, the rate limit, 4xx refusals."""

    def post(self, request, *args, **kwargs):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = MAX_BODY + 1
        if length > MAX_BODY:
            return self.refuse(_("This message is too long."), status=413)
        return super().post(request, *args, **kwargs)

    def refuse(self, message, *, status):
        return self.render_to_response(self.get_context_data(refusal=message), status=status)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        if form.filled_by_a_robot():
            return redirect("public-report-thanks")
        limit = getattr(settings, "PUBLIC_REPORTS_PER_HOUR", 5)
        if over_limit(f"public-reports:{hashed(client_address(self.request))}", limit=limit, window=3600):
            form.add_error(None, _("Too many messages from your network: try again in an hour."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        try:
            self.save(form.cleaned_data)
        except ValidationError as error:  # what the model's rules refuse, said as the form's errors
            for message in error.messages:
                form.add_error(None, message)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        return redirect("public-report-thanks")


class ReportErrorView(PublicFormView):
    """"Report an error", from a call's page."""

    template_name = "calls/report_error.html"
    form_class = ErrorReportForm

    def dispatch(self, request, *args, **kwargs):
        self.call = get_object_or_404(Call.objects.listed(), slug=kwargs["slug"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(call=self.call, **kwargs)

    def save(self, data):
        services.report_error(call=self.call, message=data["message"], contact_email=data["contact_email"])


class SuggestCallView(PublicFormView):
    """"Propose a call" the registry lacks."""

    template_name = "calls/suggest_call.html"
    form_class = SuggestCallForm

    def save(self, data):
        services.suggest_call(title=data["title"], url=data["url"], funder_name=data["funder_name"],
                              closes_on=data["closes_on"], message=data["message"],
                              contact_email=data["contact_email"])


class ThanksView(TemplateView):
    template_name = "calls/public_thanks.html"
