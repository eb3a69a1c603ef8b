"""Public pages of the registry: thin generic views over the model's querysets."""
from django.views.generic import DetailView, ListView

from .models import Call, Funder, Programme


class CallSearchView(ListView):
    template_name = "calls/call_search.html"
    paginate_by = 20

    def get_queryset(self):
        return Call.objects.published().with_status().prefetch_related("funders")


class CallDetailView(DetailView):
    template_name = "calls/call_detail.html"

    def get_queryset(self):
        return Call.objects.published().with_status()


class FunderDetailView(DetailView):
    model = Funder
    template_name = "calls/funder_detail.html"


class ProgrammeDetailView(DetailView):
    model = Programme
    template_name = "calls/programme_detail.html"
