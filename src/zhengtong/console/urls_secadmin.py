"""Console pages of the secadmin (filled in by its owner)."""
from django.urls import path
from django.views.generic import TemplateView

urlpatterns = [
    path("secadmin/", TemplateView.as_view(template_name="web/base.html"), name="secadmin"),
]
