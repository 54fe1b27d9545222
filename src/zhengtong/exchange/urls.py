from django.urls import path

from . import views

app_name = "exchange"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("deliveries/<int:pk>/", views.delivery, name="delivery"),
    path("deliveries/<int:pk>/sign/", views.sign, name="sign"),
    path("deliveries/<int:pk>/refuse/", views.refuse, name="refuse"),
    path("deliveries/<int:pk>/print/", views.print_copies, name="print"),
    path("deliveries/<int:pk>/forward/", views.forward, name="forward"),
    path("deliveries/<int:pk>/recall/", views.recall, name="recall"),
    path("deliveries/<int:pk>/resend/", views.resend, name="resend"),
    path("documents/<int:document_id>/urge/", views.urge, name="urge"),
    path("statistics/", views.statistics, name="statistics"),
    path("statistics.xlsx", views.statistics_xlsx, name="statistics_xlsx"),
]
