"""`manage.py federation_describe > city.json`: this instance's exchange directory entry (identity, certificate, its
units, the instances it routes for), for a neighbour's `federation_link`."""
import json

from django.core.management.base import BaseCommand

from ...directory import describe


class Command(BaseCommand):
    help = "导出本平台的交换名录（供相邻平台导入）"

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(describe(), ensure_ascii=False, indent=1))
