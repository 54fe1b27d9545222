from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from .api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("accounts/", include("zhengtong.accounts.urls")),
    path("org/", include("zhengtong.org.urls")),
    path("console/", include("zhengtong.console.urls")),
    path("", include("zhengtong.web.urls")),
]
if settings.ALLOW_SUPERUSER:
    # Django's own admin exists only where superusers are allowed (development); R7.2.
    urlpatterns.insert(0, path("django-admin/", admin.site.urls))
