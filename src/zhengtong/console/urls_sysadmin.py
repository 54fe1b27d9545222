"""Console pages of the sysadmin (filled in by its owner)."""
from django.urls import path
from django.views.generic import TemplateView

urlpatterns = [
    path("sysadmin/", TemplateView.as_view(template_name="web/base.html"), name="sysadmin"),
]
