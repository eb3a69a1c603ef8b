"""Two reference views served by the same server as the registry, for the HTTP comparison.

- `constant_json`: the smallest Django view, a constant JSON document: the framework's ceiling
  on this machine (routing, middleware, WSGI, no database).
- `FlatCallList`: what a naive API would serve, a plain DRF `ModelSerializer` over the calls
  table's own columns (no nesting, no annotations), 50 rows a page, with DRF's defaults, in
  primary-key order.
- `FlatStatusCallList`: the same flat rows under the API list's default status filter (open and
  upcoming calls, `calls.querysets.status_condition`) and in the search's default order (deadline
  soonest, `CallOrderingFilter.SORTS["deadline"]`, then id): the floor a nested API list of the
  same calls could reach.
"""
from django.http import JsonResponse
from rest_framework import generics, serializers
from rest_framework.pagination import PageNumberPagination

from calls.models import Call

CONSTANT = {"status": "ok", "registry": "bioproduction funding calls", "version": 1}


def constant_json(request):
    return JsonResponse(CONSTANT)


class FlatCallSerializer(serializers.ModelSerializer):
    class Meta:
        model = Call
        fields = [field.attname if field.is_relation else field.name for field in Call._meta.concrete_fields]


class FiftyPerPage(PageNumberPagination):
    page_size = 50


class FlatCallList(generics.ListAPIView):
    queryset = Call.objects.published().order_by("pk")
    serializer_class = FlatCallSerializer
    pagination_class = FiftyPerPage
    filter_backends = []


class FlatStatusCallList(FlatCallList):
    def get_queryset(self):
        # Imported here: the bench's URLs load even while the registry's filters are mid-change.
        from calls.choices import Status
        from calls.querysets import status_condition
        from calls.reading.filters import CallOrderingFilter

        return (
            Call.objects.published().with_status()
            .filter(status_condition([Status.OPEN, Status.UPCOMING]))
            .order_by(*CallOrderingFilter.SORTS["deadline"], "pk")
        )
