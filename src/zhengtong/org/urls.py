from django.urls import path
from django.views.generic import TemplateView

app_name = "org"
urlpatterns = [
    path("", TemplateView.as_view(template_name="web/base.html"), name="browser"),
]
