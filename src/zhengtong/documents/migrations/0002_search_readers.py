from django.db import migrations

# Fill the search reader keys (core 0005) of the documents indexed before them: the rule of
# documents.selectors.reader_keys, written with the historical models.


def fill_readers(apps, schema_editor):
    Document = apps.get_model("documents", "Document")
    Task = apps.get_model("flow", "Task")
    Access = apps.get_model("documents", "Access")
    Dispatch = apps.get_model("documents", "Dispatch")
    SearchEntry = apps.get_model("core", "SearchEntry")
    sqlite = schema_editor.connection.vendor == "sqlite"
    for document in Document.objects.only("pk", "drafter_id", "unit_id", "instance_id").iterator():
        identities = {document.drafter_id}
        if document.instance_id:
            for pair in Task.objects.filter(instance_id=document.instance_id).values_list("assignee_id",
                                                                                          "on_behalf_of_id"):
                identities.update(pair)
        identities.update(Access.objects.filter(document_id=document.pk).values_list("identity_id", flat=True))
        units = {document.unit_id, *Dispatch.objects.filter(document_id=document.pk).values_list("unit_id", flat=True)}
        keys = [f"i{i}" for i in identities if i] + [f"c{u}" for u in units if u]
        text = " ".join(f"@{k}" for k in sorted(keys))
        for entry_id in SearchEntry.objects.filter(kind="document", object_id=document.pk).values_list("pk", flat=True):
            SearchEntry.objects.filter(pk=entry_id).update(readers=text)
            if sqlite:
                schema_editor.execute("UPDATE core_search_fts SET readers = %s WHERE rowid = %s", [text, entry_id])


class Migration(migrations.Migration):

    dependencies = [
        ("documents", "0001_initial"),
        ("core", "0005_search_readers"),
        ("flow", "0005_issuing_unit_joint_units"),
    ]

    operations = [
        migrations.RunPython(fill_readers, migrations.RunPython.noop),
    ]
