"""Console pages of the 安全审计员 (R7.2): the audit log, its export, the chain verification."""
from django.urls import path

from . import audit_views as views

urlpatterns = [
    path("auditor/", views.home, name="auditor"),
    path("auditor/records/<int:seq>/", views.record, name="auditor_record"),
    path("auditor/export/", views.export_xlsx, name="auditor_export"),
    path("auditor/verify/", views.verify, name="auditor_verify"),
    path("auditor/verify/status/", views.verify_status, name="auditor_verify_status"),
]
