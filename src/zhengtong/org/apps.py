from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "zhengtong.org"
    verbose_name = "组织机构"
