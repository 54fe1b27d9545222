from django.urls import path

from . import views

app_name = "federation"
urlpatterns = [path("v1/envelopes", views.envelopes, name="envelopes")]
