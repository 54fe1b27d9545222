from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "zhengtong.accounts"
    verbose_name = "账号与安全"
