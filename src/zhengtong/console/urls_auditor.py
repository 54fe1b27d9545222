"""Console pages of the auditor (filled in by its owner)."""
from django.urls import path
from django.views.generic import TemplateView

urlpatterns = [
    path("auditor/", TemplateView.as_view(template_name="web/base.html"), name="auditor"),
]
