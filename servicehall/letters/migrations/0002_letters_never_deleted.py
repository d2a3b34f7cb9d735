"""PostgreSQL triggers that keep letters on the books: DELETE on a letter, its events, replies
or attachments is refused. TRUNCATE is not guarded (the test runner's flush needs it); in
production, grant the application role no TRUNCATE. Other databases (the embedded SQLite)
rely on the model and queryset refusal (models.KeptModel).
"""

from django.db import migrations

TABLES = ("letters_letter", "letters_letterevent", "letters_letterreply", "letters_letterattachment")

CREATE_FUNCTION = r"""
CREATE OR REPLACE FUNCTION letters_never_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'servicehall: DELETE on % refused: letters stay on the books', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_never_deleted BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION letters_never_deleted();",
            params=None,
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_never_deleted ON {table};", params=None)
    schema_editor.execute("DROP FUNCTION IF EXISTS letters_never_deleted();", params=None)


class Migration(migrations.Migration):
    dependencies = [("letters", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers, elidable=False)]
