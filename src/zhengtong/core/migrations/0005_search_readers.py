from django.db import migrations, models

# Reader keys (core/search.py): who may read an entry, as opaque keys the domain app gives ("@i12", "@c7").
# PostgreSQL: `match` is rebuilt to carry them as extra lexemes (array_to_tsvector: taken verbatim, not parsed), so
# one GIN scan intersects a query's words with the caller's keys, and the entry's month ("#m202611", China time, as
# core.search.month_key) so that newest-first over many matches reads only the newest months' rows; measured in
# bench/search_bench.py (docs/PERFORMANCE.md).
# SQLite: the FTS5 table gains a `readers` column (rebuilt from the entries).
PG_UP = [
    "DROP INDEX IF EXISTS core_search_match",
    "ALTER TABLE core_searchentry DROP COLUMN IF EXISTS match",
    """ALTER TABLE core_searchentry
         ADD COLUMN match tsvector GENERATED ALWAYS AS (strip(to_tsvector('simple',
           coalesce(title_tokens, '') || ' ' || coalesce(number_tokens, '') || ' ' || coalesce(body_tokens, '') || ' '
           || coalesce(attachment_tokens, ''))) || array_to_tsvector(array_remove(string_to_array(
           coalesce(readers, ''), ' '), '')) || array_to_tsvector(ARRAY['#m' || coalesce((
           date_part('year', created_at AT TIME ZONE 'Asia/Shanghai') * 100
           + date_part('month', created_at AT TIME ZONE 'Asia/Shanghai'))::int::text, '0')])) STORED,
         ALTER COLUMN match SET STORAGE MAIN""",
    "CREATE INDEX core_search_match ON core_searchentry USING GIN (match)",
]
PG_DOWN = [
    "DROP INDEX IF EXISTS core_search_match",
    "ALTER TABLE core_searchentry DROP COLUMN IF EXISTS match",
    """ALTER TABLE core_searchentry
         ADD COLUMN match tsvector GENERATED ALWAYS AS (strip(to_tsvector('simple',
           coalesce(title_tokens, '') || ' ' || coalesce(number_tokens, '') || ' ' || coalesce(body_tokens, '') || ' '
           || coalesce(attachment_tokens, '')))) STORED,
         ALTER COLUMN match SET STORAGE MAIN""",
    "CREATE INDEX core_search_match ON core_searchentry USING GIN (match)",
]
FTS_COLUMNS = "title, number, body, attachments"
SQLITE_UP = [
    "DROP TABLE IF EXISTS core_search_fts",
    f"CREATE VIRTUAL TABLE core_search_fts USING fts5({FTS_COLUMNS}, readers, "
    "tokenize='unicode61 remove_diacritics 0')",
    f"INSERT INTO core_search_fts (rowid, {FTS_COLUMNS}, readers) SELECT id, title_tokens, number_tokens, "
    "body_tokens, attachment_tokens, readers FROM core_searchentry",
]
SQLITE_DOWN = [
    "DROP TABLE IF EXISTS core_search_fts",
    f"CREATE VIRTUAL TABLE core_search_fts USING fts5({FTS_COLUMNS}, tokenize='unicode61 remove_diacritics 0')",
    f"INSERT INTO core_search_fts (rowid, {FTS_COLUMNS}) SELECT id, title_tokens, number_tokens, body_tokens, "
    "attachment_tokens FROM core_searchentry",
]


def up(apps, schema_editor):
    for sql in PG_UP if schema_editor.connection.vendor == "postgresql" else SQLITE_UP:
        schema_editor.execute(sql)


def down(apps, schema_editor):
    for sql in PG_DOWN if schema_editor.connection.vendor == "postgresql" else SQLITE_DOWN:
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0004_search_match"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchentry",
            name="readers",
            field=models.TextField(blank=True, default="", verbose_name="可读范围",
                                   help_text="谁可以读：领域应用给出的读者键（如 @i12 身份、@c7 单位收发员），空格分隔"),
        ),
        migrations.RunPython(up, down),
    ]
