"""Seal pages at /seals/ (the 安全保密管理员's register lives in the console: console/urls_secadmin.py)."""
from django.urls import path

from . import views

app_name = "seals"
urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("holders/", views.holders, name="holders"),
    path("<int:pk>/holders/", views.set_holders, name="set_holders"),
    path("<int:pk>/image.png", views.image, name="image"),
]
