"""/api/v1/…: a router for the resources, plain paths for the vocabularies and exports."""
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from calls.api import views
from calls.api.root import APIRootView
from calls.api.schema_docs import EnglishSchemaView
from calls.api.submitted import SLUG_PATTERN, SubmissionDetailView, SubmissionListView
from registry import errors

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("calls", views.CallViewSet, basename="api-call")
router.register("funders", views.FunderViewSet, basename="api-funder")
router.register("programmes", views.ProgrammeViewSet, basename="api-programme")
router.register("themes", views.ThemeViewSet, basename="api-theme")

v1 = [
    path("", APIRootView.as_view(), name="api-root"),
    path("submissions/", SubmissionListView.as_view(), name="api-submission-list"),
    re_path(rf"^submissions/(?P<slug>{SLUG_PATTERN})/$", SubmissionDetailView.as_view(), name="api-submission-detail"),
    path("sync/", views.CallSyncViewSet.as_view({"get": "list"}), name="api-sync"),
    path("vocabularies/", views.VocabulariesView.as_view(), name="api-vocabularies"),
    path("exports/calls.json", views.ExportJSONView.as_view(), name="api-export-json"),
    path("exports/calls.csv", views.ExportCSVView.as_view(), name="api-export-csv"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", EnglishSchemaView.as_view(), name="api-schema"),
    # The split view serves its script as a file: the Content-Security-Policy allows no inline script.
    # Its page's rules come from a stylesheet (api/swagger_ui.html): no inline style either.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
         name="api-docs"),
    path("redoc/", views.RedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("redoc/redoc.standalone.js", views.redoc_script, name="api-redoc-script"),
    # Anything else under /api/ is a JSON 404, whatever DEBUG says (Django's debug 404 is HTML).
    re_path(r"^", errors.not_found),
]
