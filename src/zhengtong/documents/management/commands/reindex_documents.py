"""Rebuild the full-text index of every 公文 (text and reader keys) — after restoring a backup, changing the
segmentation dictionary, or if the index is suspected to disagree with the documents.

Each document is reindexed in its own transaction through services.common.reindex (the path every save takes);
documents whose entry is missing are added, entries of documents that no longer exist are removed.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from zhengtong.core.models import SearchEntry
from zhengtong.documents.models import Document
from zhengtong.documents.services.common import SEARCH_KIND, reindex


class Command(BaseCommand):
    help = "重建公文全文索引（正文、附件文字与可读范围）"

    def handle(self, *args, **options):
        count = 0
        for pk in Document.objects.order_by("pk").values_list("pk", flat=True).iterator():
            with transaction.atomic():
                document = Document.objects.filter(pk=pk).first()
                if document is not None:
                    reindex(document)
                    count += 1
        orphans = (SearchEntry.objects.filter(kind=SEARCH_KIND)
                   .exclude(object_id__in=Document.objects.values("pk")).values_list("object_id", flat=True))
        from zhengtong.core import search

        removed = 0
        for object_id in list(orphans):
            search.remove(SEARCH_KIND, object_id)
            removed += 1
        self.stdout.write(f"已重建 {count} 件公文的索引，移除 {removed} 条失效索引")
