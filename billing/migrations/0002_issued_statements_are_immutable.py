"""The database itself refuses to change or delete an issued statement or its lines."""

from __future__ import annotations

from django.db import migrations

POSTGRES = """
CREATE OR REPLACE FUNCTION tally_refuse_issued_change() RETURNS trigger AS $$
DECLARE parent_status text;
BEGIN
  IF TG_TABLE_NAME = 'billing_statement' THEN
    parent_status := OLD.status;
  ELSE
    SELECT status INTO parent_status FROM billing_statement WHERE id = OLD.statement_id;
  END IF;
  IF parent_status = 'issued' THEN
    RAISE EXCEPTION 'issued statements are immutable; issue a credit note instead'
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER statement_immutable BEFORE UPDATE OR DELETE ON billing_statement
  FOR EACH ROW EXECUTE FUNCTION tally_refuse_issued_change();
CREATE TRIGGER statement_line_immutable BEFORE UPDATE OR DELETE ON billing_statementline
  FOR EACH ROW EXECUTE FUNCTION tally_refuse_issued_change();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS statement_line_immutable ON billing_statementline;
DROP TRIGGER IF EXISTS statement_immutable ON billing_statement;
DROP FUNCTION IF EXISTS tally_refuse_issued_change();
"""
SQLITE = [
    """CREATE TRIGGER statement_immutable_update BEFORE UPDATE ON billing_statement
       WHEN OLD.status = 'issued' BEGIN SELECT RAISE(ABORT, 'issued statements are immutable'); END""",
    """CREATE TRIGGER statement_immutable_delete BEFORE DELETE ON billing_statement
       WHEN OLD.status = 'issued' BEGIN SELECT RAISE(ABORT, 'issued statements are immutable'); END""",
    """CREATE TRIGGER statement_line_immutable_update BEFORE UPDATE ON billing_statementline
       WHEN (SELECT status FROM billing_statement WHERE id = OLD.statement_id) = 'issued'
       BEGIN SELECT RAISE(ABORT, 'issued statements are immutable'); END""",
    """CREATE TRIGGER statement_line_immutable_delete BEFORE DELETE ON billing_statementline
       WHEN (SELECT status FROM billing_statement WHERE id = OLD.statement_id) = 'issued'
       BEGIN SELECT RAISE(ABORT, 'issued statements are immutable'); END""",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES)
    elif schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE)
    elif schema_editor.connection.vendor == "sqlite":
        for name in ["statement_immutable_update", "statement_immutable_delete",
                     "statement_line_immutable_update", "statement_line_immutable_delete"]:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
