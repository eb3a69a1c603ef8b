"""`/api/v1/submissions/` and `/api/v1/submissions/{slug}/`: a partner follows the calls it
submitted, with the same token.

A submission is a draft until curators publish it: the public endpoints (`calls/{slug}/`) do not
show it, so its submitter reads it here, with its review state. Nobody else sees it (404), and the
list holds the token owner's submissions only, newest first.
"""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated

from calls.api import queries
from calls.api.pagination import RegistryPagination
from calls.api.serializers import SubmittedCallSerializer

SLUG_PATTERN = r"[-a-zA-Z0-9_]+"
UNAUTHORIZED = OpenApiResponse(inline_serializer("SubmissionError", {"detail": serializers.CharField()}),
                               description="Missing or invalid token.")


class OwnSubmissionsMixin:
    serializer_class = SubmittedCallSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return queries.calls_for_api().none()
        return queries.submissions_of(self.request.user)


class SubmissionListView(OwnSubmissionsMixin, generics.ListAPIView):
    pagination_class = RegistryPagination

    @extend_schema(
        summary="The calls you submitted, with their review state",
        description="Every call submitted with this token's account, newest first, paginated like the other "
                    "lists (`page`, `page_size`).",
        responses={200: SubmittedCallSerializer(many=True), 401: UNAUTHORIZED,
                   404: OpenApiResponse(description="No such page.")},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SubmissionDetailView(OwnSubmissionsMixin, generics.RetrieveAPIView):
    lookup_field = "slug"

    @extend_schema(
        summary="A call you submitted, with its review state",
        parameters=[OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=f"^{SLUG_PATTERN}$")],
        responses={
            200: SubmittedCallSerializer,
            401: UNAUTHORIZED,
            404: OpenApiResponse(description="No call of this slug was submitted with this token's account."),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
