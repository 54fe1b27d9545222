"""URLs of the flow designer pages (unit administrator's console); mounted in zhengtong/urls.py at /flows/."""
from django.urls import path

from . import designer

app_name = "flow_designer"
urlpatterns = [
    path("", designer.definition_list, name="list"),
    path("<int:definition_id>/design/", designer.design, name="design"),
    path("<int:definition_id>/save/", designer.save, name="save"),
    path("<int:definition_id>/activate/", designer.activate, name="activate"),
]
