from django.urls import path

from . import views

app_name = "notify"
urlpatterns = [
    path("", views.centre, name="centre"),
    path("count/", views.count, name="count"),
    path("read/", views.mark_read, name="read"),
    path("<int:pk>/", views.open_item, name="open"),
    path("settings/", views.my_settings, name="settings"),
    path("units/", views.unit_pick, name="unit_pick"),
    path("units/<int:unit_id>/", views.unit_defaults, name="unit"),
    path("admin/", views.admin_page, name="admin"),
]
