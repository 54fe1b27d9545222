from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "zhengtong.audit"
    verbose_name = "审计"
