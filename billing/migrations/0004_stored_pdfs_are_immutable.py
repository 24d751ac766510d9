"""The stored PDF of an issued document is as immutable as the document (credit notes live in
billing_statement and billing_statementline, already covered by 0002).

SQLite rebuilds a table to alter it, which drops its triggers: 0003 rebuilt both tables, so
the SQLite triggers of 0002 are created again here.
"""

from __future__ import annotations

from importlib import import_module

from django.db import migrations

IMMUTABLE = import_module("billing.migrations.0002_issued_statements_are_immutable")

POSTGRES = """
CREATE TRIGGER statement_pdf_immutable BEFORE UPDATE OR DELETE ON billing_statementpdf
  FOR EACH ROW EXECUTE FUNCTION tally_refuse_issued_change();
"""
SQLITE = [
    """CREATE TRIGGER statement_pdf_immutable_update BEFORE UPDATE ON billing_statementpdf
       WHEN (SELECT status FROM billing_statement WHERE id = OLD.statement_id) = 'issued'
       BEGIN SELECT RAISE(ABORT, 'issued statements are immutable'); END""",
    """CREATE TRIGGER statement_pdf_immutable_delete BEFORE DELETE ON billing_statementpdf
       WHEN (SELECT status FROM billing_statement WHERE id = OLD.statement_id) = 'issued'
       BEGIN SELECT RAISE(ABORT, 'issued statements are immutable'); END""",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES)
    elif schema_editor.connection.vendor == "sqlite":
        for name in ["statement_immutable_update", "statement_immutable_delete",
                     "statement_line_immutable_update", "statement_line_immutable_delete"]:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        for sql in [*IMMUTABLE.SQLITE, *SQLITE]:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS statement_pdf_immutable ON billing_statementpdf")
    elif schema_editor.connection.vendor == "sqlite":
        for name in ["statement_pdf_immutable_update", "statement_pdf_immutable_delete"]:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_invoices_credit_notes_and_close")]
    operations = [migrations.RunPython(forwards, backwards)]
