"""Pages of the alerts: thin views over `calls.alerts.services`.

A refused request (bad form, rate limit, forged or expired link) is a page saying why, with a
4xx status, never a server error. Links in messages only show a page with a button: a mail
scanner that follows them changes nothing, except the RFC 8058 one-click unsubscribe POST.
"""
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import FormView, TemplateView, View

from calls.alerts import services
from calls.alerts.forms import ChangeForm, ChangeSearchForm, RemindForm, SubscribeForm
from calls.alerts.searches import describe_search, normalize_query
from calls.models import Call
from registry.throttling import client_address


class RefusalMixin:
    """Form errors answer 400, refusals by the services their own status (429 when rate-limited)."""

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def refused(self, form, error: services.AlertError):
        form.add_error(error.field if error.field in form.fields and error.field != "query" else None, error.message)
        return self.render_to_response(self.get_context_data(form=form), status=error.status)


class SubscribeView(RefusalMixin, FormView):
    """"Receive new calls by email" for the search of the query string (GET) or the form (POST)."""

    template_name = "alerts/subscribe.html"
    form_class = SubscribeForm

    def get_initial(self):
        return {**super().get_initial(), "query": self.request.GET.urlencode()}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        raw = context["form"]["query"].value() or ""
        context["search"] = describe_search(normalize_query(raw))
        context["search_url"] = reverse("call-search") + ("?" + normalize_query(raw) if raw else "")
        return context

    def form_valid(self, form):
        try:
            services.subscribe(**form.cleaned_data, client_address=client_address(self.request))
        except services.AlertError as error:
            return self.refused(form, error)
        return redirect("alert-pending")


class RemindView(RefusalMixin, FormView):
    """"Remind me before the deadline" of one call."""

    template_name = "alerts/remind.html"
    form_class = RemindForm

    def dispatch(self, request, *args, **kwargs):
        self.call = get_object_or_404(Call.objects.listed(), slug=kwargs["slug"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(call=self.call, **kwargs)

    def form_valid(self, form):
        try:
            services.subscribe(**form.cleaned_data, call=self.call, client_address=client_address(self.request))
        except services.AlertError as error:
            return self.refused(form, error)
        return redirect("alert-pending")


class PendingView(TemplateView):
    template_name = "alerts/pending.html"


def invalid_link(request, error: services.AlertError):
    """The page of a link that cannot be followed, saying why (400)."""
    return TemplateResponse(request, "alerts/invalid_link.html", {"error": error.message}, status=400)


class TokenView(TemplateView):
    """A page reached by a signed link: an invalid link gets a page saying so, with a 400."""

    purpose = "manage"

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except services.InvalidLink as error:
            return invalid_link(request, error)

    def subscription(self):
        return services.existing_subscription(self.kwargs["token"], purpose=self.purpose)


class ConfirmView(TokenView):
    """GET shows the alert and a button; POST confirms it."""

    purpose = "confirm"
    template_name = "alerts/confirm.html"

    def get(self, request, *args, **kwargs):
        subscription = self.subscription()
        return self.render_to_response(self.get_context_data(
            subscription=subscription,
            search=describe_search(subscription.query, quote_text=subscription.is_confirmed),
        ))

    def post(self, request, *args, **kwargs):
        subscription = services.confirm(token=self.kwargs["token"])
        manage_token = services.make_token(subscription, purpose="manage")
        return redirect(reverse("alert-manage", args=[manage_token]) + "?saved=1")


class ManageView(TokenView):
    """An alert's page: its search, rhythm and language, to change; unsubscribe; forget the address."""

    template_name = "alerts/manage.html"

    def get_context_data(self, **kwargs):
        subscription = kwargs.get("subscription") or self.subscription()
        query = subscription.query
        token = self.kwargs["token"]
        change_search_url = reverse("call-search") + "?" + "&".join(filter(None, [query, f"alert={token}"]))
        return super().get_context_data(**{
            "subscription": subscription, "search": describe_search(query),
            "search_url": reverse("call-search") + (f"?{query}" if query else ""),
            "change_search_url": change_search_url,
            "form": ChangeForm(initial={"rhythm": subscription.rhythm, "language": subscription.language}),
            **kwargs,
        })

    def post(self, request, *args, **kwargs):
        subscription = self.subscription()
        form = ChangeForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(subscription=subscription, form=form), status=400)
        try:
            services.change(token=self.kwargs["token"], rhythm=form.cleaned_data["rhythm"] or None,
                            language=form.cleaned_data["language"])
        except services.AlertError as error:
            form.add_error(None, error.message)
            return self.render_to_response(self.get_context_data(form=form), status=error.status)
        return redirect(reverse("alert-manage", args=[self.kwargs["token"]]) + "?saved=1")


class ChangeSearchView(View):
    """From the search page: the search shown becomes the alert's saved search."""

    def post(self, request, *args, **kwargs):
        form = ChangeSearchForm(request.POST)
        if not form.is_valid():
            return invalid_link(request, services.InvalidLink(services.NOT_VALID))
        token = form.cleaned_data["token"]
        try:
            services.change(token=token, query=form.cleaned_data["query"])
        except services.AlertError as error:
            return invalid_link(request, error)
        return redirect(reverse("alert-manage", args=[token]) + "?saved=1")


@method_decorator(csrf_exempt, name="dispatch")
class UnsubscribeView(TokenView):
    """GET asks; POST unsubscribes: the RFC 8058 one-click POST comes from the mail provider,
    with `List-Unsubscribe=One-Click` and no cookie, hence no CSRF check (the token is the proof)."""

    template_name = "alerts/unsubscribe.html"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(subscription=self.subscription()))

    def post(self, request, *args, **kwargs):
        done = services.unsubscribe(token=self.kwargs["token"])
        others = [{
            "call": other.call if other.is_reminder else None,
            "search": None if other.is_reminder else describe_search(other.query, quote_text=other.is_confirmed),
            "manage_url": reverse("alert-manage", args=[services.make_token(other, purpose="manage")]),
        } for other in done.remaining]
        forget_token = services.make_token(done.remaining[0], purpose="manage") if done.remaining else None
        return self.render_to_response(self.get_context_data(
            done=True, deleted=done.deleted, others=others, forget_token=forget_token,
        ))


class ForgetAddressView(TokenView):
    """Delete every alert of the address (from an alert's page)."""

    template_name = "alerts/unsubscribe.html"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        deleted = services.forget_address(token=self.kwargs["token"])
        return self.render_to_response(self.get_context_data(done=True, deleted=deleted, everything=True))
