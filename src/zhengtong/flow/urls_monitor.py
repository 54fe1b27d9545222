"""URLs of the flow monitor pages (unit administrator's console); mounted in zhengtong/urls.py."""
from django.urls import path

from . import monitor

app_name = "flow_monitor"
urlpatterns: list = [
    path("", monitor.index, name="index"),
    path("handover/", monitor.handover, name="handover"),
    path("<int:instance_id>/", monitor.detail, name="detail"),
    path("<int:instance_id>/act/", monitor.act, name="act"),
]
