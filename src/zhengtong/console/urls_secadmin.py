"""Console pages of the 安全保密管理员 (R7.2): security policy, the three administrators' roles, accounts."""
from django.urls import path

from zhengtong.seals import views as seal_views

from . import security_views as views

urlpatterns = [
    path("secadmin/", views.home, name="secadmin"),
    path("secadmin/policy/", views.update_policy, name="secadmin_policy"),
    path("secadmin/roles/grant/", views.grant_role, name="secadmin_grant"),
    path("secadmin/roles/<int:grant_id>/revoke/", views.revoke_role, name="secadmin_revoke"),
    path("secadmin/users/<int:user_id>/security/", views.user_security, name="secadmin_user_security"),
    path("secadmin/users/<int:user_id>/otp-reset/", views.reset_otp, name="secadmin_otp_reset"),
    # electronic seals (R7.4): the platform CA and the units' seals
    path("secadmin/seals/", seal_views.register, name="secadmin_seals"),
    path("secadmin/seals/create/", seal_views.create, name="secadmin_seal_create"),
    path("secadmin/seals/<int:pk>/revoke/", seal_views.revoke, name="secadmin_seal_revoke"),
]
