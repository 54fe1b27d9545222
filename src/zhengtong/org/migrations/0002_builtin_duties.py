from django.db import migrations

BUILTIN = [
    ("principal", "主要负责人", 10),
    ("deputy", "分管领导", 20),
    ("dept_head", "处室负责人", 30),
    ("clerk", "科员", 50),
    ("doc_clerk", "收发员", 60),
    ("unit_admin", "单位系统管理员", 70),
]


def create(apps, schema_editor):
    Duty = apps.get_model("org", "Duty")
    for code, name, rank in BUILTIN:
        Duty.objects.update_or_create(code=code, defaults={"name": name, "rank": rank, "builtin": True})


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
