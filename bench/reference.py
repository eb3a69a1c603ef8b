"""Two reference views served by the same server as the registry, for the HTTP comparison.

- `constant_json`: the smallest Django view, a constant JSON document: the framework's ceiling
  on this machine (routing, middleware, WSGI, no database).
- `FlatCallList`: what a naive API would serve, a plain DRF `ModelSerializer` over the calls
  table's own columns (no nesting, no annotations), 50 rows a page, with DRF's defaults.
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
