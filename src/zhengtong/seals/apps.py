from django.apps import AppConfig


class SealsConfig(AppConfig):
    """Electronic seals (R7.4): the platform CA, units' seals, sealing and verifying PDFs."""

    name = "zhengtong.seals"
    verbose_name = "电子印章"
