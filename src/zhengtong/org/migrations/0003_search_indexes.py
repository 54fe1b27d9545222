"""People search (org.selectors): an index over the people whose name has several pinyin readings.

The first reading of every name is found by the pattern-ops indexes Django creates for `pinyin` and
`initials` on PostgreSQL; the other readings (曾 zeng/ceng: "cengxiaoming zengxiaoming") are looked for
only among the rows listed here, so a search never scans the whole table. Harmless on SQLite.
"""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("org", "0002_builtin_duties")]
    operations = [
        migrations.RunSQL(
            "CREATE INDEX org_person_several_readings ON org_person (id) WHERE pinyin LIKE '% %'",
            "DROP INDEX org_person_several_readings",
        ),
    ]
