"""Console pages of the platform 系统管理员 (R7.2): figures, working-day calendar (R8.2), accounts, 交换运维."""
from django.urls import path

from zhengtong.exchange.federation import console as exchange_console

from . import sysadmin_views as views

urlpatterns = [
    path("sysadmin/", views.home, name="sysadmin"),
    path("sysadmin/calendar/", views.calendar_current, name="sysadmin_calendar_current"),
    path("sysadmin/calendar/<int:year>/", views.calendar_year, name="sysadmin_calendar"),
    path("sysadmin/calendar/<int:year>/day/", views.calendar_set_day, name="sysadmin_calendar_day"),
    path("sysadmin/calendar/<int:year>/day/<str:day>/remove/", views.calendar_remove_day,
         name="sysadmin_calendar_remove"),
    path("sysadmin/calendar/<int:year>/import/", views.calendar_import, name="sysadmin_calendar_import"),
    path("sysadmin/calendar/<int:year>/confirm/", views.calendar_confirm, name="sysadmin_calendar_confirm"),
    path("sysadmin/accounts/", views.accounts, name="sysadmin_accounts"),
    path("sysadmin/accounts/<int:user_id>/unlock/", views.account_unlock, name="sysadmin_account_unlock"),
    path("sysadmin/accounts/<int:user_id>/active/", views.account_active, name="sysadmin_account_active"),
    path("sysadmin/accounts/<int:user_id>/reset-password/", views.account_reset_password,
         name="sysadmin_account_reset_password"),
    path("sysadmin/exchange/", exchange_console.overview, name="sysadmin_exchange"),
    path("sysadmin/exchange/<int:pk>/resend/", exchange_console.resend, name="sysadmin_exchange_resend"),
]
