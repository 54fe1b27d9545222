"""The three administrators' consoles (三员分立). Each area adds its own module of urlpatterns."""
from django.urls import path
from django.views.generic import TemplateView

app_name = "console"
urlpatterns = [
    path("sysadmin/", TemplateView.as_view(template_name="web/base.html"), name="sysadmin"),
    path("secadmin/", TemplateView.as_view(template_name="web/base.html"), name="secadmin"),
    path("auditor/", TemplateView.as_view(template_name="web/base.html"), name="auditor"),
]
