from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "zhengtong.accounts"
    verbose_name = "账号与安全"

    def ready(self):
        from . import db_triggers

        post_migrate.connect(db_triggers.reinstall_after_migrate, sender=self,
                             dispatch_uid="accounts_role_triggers")
