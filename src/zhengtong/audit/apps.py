from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "zhengtong.audit"
    verbose_name = "审计"

    def ready(self):
        from . import db_triggers

        post_migrate.connect(db_triggers.reinstall_after_migrate, sender=self,
                             dispatch_uid="audit_append_only_triggers")
