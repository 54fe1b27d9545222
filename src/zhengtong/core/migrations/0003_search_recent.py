from django.db import migrations

# core.search orders a query with more than COUNT_CAP matches newest first instead of ranking them all; this index
# lets that ORDER BY … LIMIT walk the entries in date order and stop after one page. PostgreSQL only: FTS5 on SQLite
# hands the matches over first and sorts them (at its 100,000-document scale that is cheap).
PG_UP = "CREATE INDEX core_search_recent ON core_searchentry (created_at DESC NULLS LAST, id DESC)"
PG_DOWN = "DROP INDEX IF EXISTS core_search_recent"


def up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_UP)


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DOWN)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0002_search_entry"),
    ]

    operations = [
        migrations.RunPython(up, down),
    ]
