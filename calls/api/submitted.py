"""`/api/v1/submissions/{slug}/`: a partner follows the calls it submitted, with the same token.

A submission is a draft until curators publish it: the public endpoints (`calls/{slug}/`) do not
show it, so its submitter reads it here, with its review state. Nobody else sees it (404).
"""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated

from . import queries
from .serializers import SubmittedCallSerializer

SLUG_PATTERN = r"[-a-zA-Z0-9_]+"


class SubmissionDetailView(generics.RetrieveAPIView):
    serializer_class = SubmittedCallSerializer
    permission_classes = [IsAuthenticated]
    lookup_field = "slug"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return queries.calls_for_api().none()
        return queries.calls_for_api().filter(submitted_by=self.request.user)

    @extend_schema(
        summary="A call you submitted, with its review state",
        parameters=[OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=f"^{SLUG_PATTERN}$")],
        responses={
            200: SubmittedCallSerializer,
            401: OpenApiResponse(inline_serializer("SubmissionError", {"detail": serializers.CharField()}),
                                 description="Missing or invalid token."),
            404: OpenApiResponse(description="No call of this slug was submitted with this token's account."),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
