from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/otp/", views.login_otp_view, name="login_otp"),
    path("login/cert/", views.cert_login_view, name="cert_login"),
    path("logout/", views.logout_view, name="logout"),
    path("profile/", views.profile_view, name="profile"),
    path("password/", views.password_change_view, name="password_change"),
    path("otp/enroll/", views.otp_enroll_view, name="otp_enroll"),
    path("otp/remove/", views.otp_remove_view, name="otp_remove"),
]
