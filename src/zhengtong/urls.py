from django.conf import settings
from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, re_path

from .api import api


def api_not_found(request, rest=""):
    return JsonResponse({"code": "not_found", "message": "接口不存在"}, status=404)


urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("accounts/", include("zhengtong.accounts.urls")),
    path("org/", include("zhengtong.org.urls")),
    path("console/", include("zhengtong.console.urls")),
    path("tasks/", include("zhengtong.flow.urls")),
    path("documents/", include("zhengtong.documents.urls")),
    path("exchange/", include("zhengtong.exchange.urls")),
    path("federation/", include("zhengtong.exchange.federation.urls")),
    path("seals/", include("zhengtong.seals.urls")),
    path("notifications/", include("zhengtong.notify.urls")),
    path("flows/monitor/", include("zhengtong.flow.urls_monitor")),
    path("flows/", include("zhengtong.flow.urls_designer")),
    path("", include("zhengtong.web.urls")),
]
if settings.ALLOW_SUPERUSER:
    # Django's own admin exists only where superusers are allowed (development); R7.2.
    urlpatterns.insert(0, path("django-admin/", admin.site.urls))
