"""Person.id_number: one plain index instead of db_index's pair (plain + pattern-ops "_like").

Written by hand: Django's AlterField, asked to drop db_index, drops every index on the
column, including the partial unique index of the one-live-card constraint (and its reverse
does not bring it back). So the state changes as makemigrations would have it, and the
database keeps its plain index under the new name and loses only the "_like" one.
"""

from django.db import migrations, models

OLD = "registry_person_id_number_91906e7b"
NEW = "registry_person_id_number_idx"


def forwards(apps, schema_editor):
    execute = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        execute(f'DROP INDEX IF EXISTS "{OLD}_like"')
        execute(f'ALTER INDEX IF EXISTS "{OLD}" RENAME TO "{NEW}"')
        execute(f'CREATE INDEX IF NOT EXISTS "{NEW}" ON registry_person (id_number)')
    else:
        execute(f'DROP INDEX IF EXISTS "{OLD}"')
        execute(f'CREATE INDEX IF NOT EXISTS "{NEW}" ON registry_person (id_number)')


def backwards(apps, schema_editor):
    execute = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        execute(f'ALTER INDEX IF EXISTS "{NEW}" RENAME TO "{OLD}"')
        execute(
            f'CREATE INDEX IF NOT EXISTS "{OLD}_like" '
            "ON registry_person (id_number varchar_pattern_ops)"
        )
    else:
        execute(f'DROP INDEX IF EXISTS "{NEW}"')
        execute(f'CREATE INDEX IF NOT EXISTS "{OLD}" ON registry_person (id_number)')


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_organisation_data"),
        ("registry", "0002_namestat_fewer_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="person",
                    name="id_number",
                    field=models.CharField(max_length=18, verbose_name="公民身份号码"),
                ),
                migrations.AddIndex(
                    model_name="person",
                    index=models.Index(fields=["id_number"], name=NEW),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
