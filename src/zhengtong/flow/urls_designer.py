"""URLs of the flow designer pages (unit administrator's console); mounted in zhengtong/urls.py."""
from django.urls import path  # noqa: F401

app_name = "flow_designer"
urlpatterns: list = []
