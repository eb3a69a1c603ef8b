from django.urls import path

from . import views

urlpatterns = [
    path("", views.CallSearchView.as_view(), name="call-search"),
    path("appels/<slug:slug>/", views.CallDetailView.as_view(), name="call-detail"),
    path("financeurs/<slug:slug>/", views.FunderDetailView.as_view(), name="funder-detail"),
    path("programmes/<slug:slug>/", views.ProgrammeDetailView.as_view(), name="programme-detail"),
]
