from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "zhengtong.documents"
    verbose_name = "公文"
