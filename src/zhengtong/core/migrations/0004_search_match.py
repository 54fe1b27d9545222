from django.db import migrations

# PostgreSQL: a second, stripped tsvector `match` (lexemes only: no positions, no weights) for the @@ test, kept in the
# row (STORAGE MAIN) and GIN-indexed; the weighted `document` with positions stays for ts_rank_cd on the matches only.
# Why (bench/search_bench.py, docs/PERFORMANCE.md): a reader's readable set is probed entry by entry, and testing the
# ~4 KB TOASTed `document` cost ~13 µs per entry; the ~2.7 KB in-row `match` ~7 µs.
PG_UP = [
    """ALTER TABLE core_searchentry
         ADD COLUMN match tsvector GENERATED ALWAYS AS (strip(to_tsvector('simple',
           coalesce(title_tokens, '') || ' ' || coalesce(number_tokens, '') || ' ' || coalesce(body_tokens, '') || ' '
           || coalesce(attachment_tokens, '')))) STORED,
         ALTER COLUMN match SET STORAGE MAIN""",
    "DROP INDEX IF EXISTS core_search_document",
    "CREATE INDEX core_search_match ON core_searchentry USING GIN (match)",
]
PG_DOWN = [
    "DROP INDEX IF EXISTS core_search_match",
    "ALTER TABLE core_searchentry DROP COLUMN IF EXISTS match",
    "CREATE INDEX core_search_document ON core_searchentry USING GIN (document)",
]


def up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_UP:
            schema_editor.execute(sql)


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in PG_DOWN:
            schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0003_search_recent"),
    ]

    operations = [
        migrations.RunPython(up, down),
    ]
