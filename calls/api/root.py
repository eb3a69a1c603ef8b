"""`/api/v1/`: the API's root, linking every endpoint (the sync and a partner's submissions too),
its schema and its docs."""
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

ENDPOINTS = {
    "calls": "api-call-list",
    "sync": "api-sync",
    "submissions": "api-submission-list",
    "funders": "api-funder-list",
    "programmes": "api-programme-list",
    "themes": "api-theme-list",
    "vocabularies": "api-vocabularies",
    "export_json": "api-export-json",
    "export_csv": "api-export-csv",
    "schema": "api-schema",
    "docs": "api-docs",
    "redoc": "api-redoc",
}


class APIRootView(APIView):
    @extend_schema(
        summary="The API's root",
        description="Links to every endpoint of version 1, the OpenAPI schema and the interactive docs.",
        responses={200: inline_serializer("APIRoot", {name: serializers.URLField() for name in ENDPOINTS})},
    )
    def get(self, request):
        return Response({name: request.build_absolute_uri(reverse(url_name)) for name, url_name in ENDPOINTS.items()})
