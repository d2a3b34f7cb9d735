"""PostgreSQL trigger that keeps the audit log append-only.

UPDATE is always refused. DELETE is refused except during the retention purge
(servicehall.core.audit.purge sets `servicehall.audit_purge` for its transaction), and even
then only for entries older than six months, so a mistaken setting cannot purge recent
history. Anchors are guarded by the same function. TRUNCATE is not guarded: the test
runner's flush needs it; in production, grant the application role no TRUNCATE.

Other databases (the embedded SQLite) rely on the model-level refusal and the hash chain.
"""

from django.db import migrations

CREATE = r"""
CREATE OR REPLACE FUNCTION core_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Nested IFs: PL/pgSQL does not short-circuit AND, and anchors have no "time".
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'core_auditentry' THEN
        IF current_setting('servicehall.audit_purge', true) = 'on'
           AND OLD."time" < now() - interval '6 months' THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'servicehall: % on % refused: the audit log is append-only',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER core_auditentry_append_only
    BEFORE UPDATE OR DELETE ON core_auditentry
    FOR EACH ROW EXECUTE FUNCTION core_audit_append_only();
CREATE TRIGGER core_auditanchor_append_only
    BEFORE UPDATE OR DELETE ON core_auditanchor
    FOR EACH ROW EXECUTE FUNCTION core_audit_append_only();
"""

DROP = r"""
DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry;
DROP TRIGGER IF EXISTS core_auditanchor_append_only ON core_auditanchor;
DROP FUNCTION IF EXISTS core_audit_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger, elidable=False)]
