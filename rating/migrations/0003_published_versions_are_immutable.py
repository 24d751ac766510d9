"""The database itself refuses to change a published rate card version, its rates or their tiers."""

from __future__ import annotations

from django.db import migrations

POSTGRES = """
CREATE OR REPLACE FUNCTION tally_refuse_published_change() RETURNS trigger AS $$
DECLARE row_version integer; st text;
BEGIN
  IF TG_TABLE_NAME = 'rating_ratecardversion' THEN
    st := OLD.status;
  ELSE
    IF TG_TABLE_NAME = 'rating_rate' THEN
      row_version := CASE WHEN TG_OP = 'INSERT' THEN NEW.version_id ELSE OLD.version_id END;
    ELSE
      SELECT version_id INTO row_version FROM rating_rate
       WHERE id = CASE WHEN TG_OP = 'INSERT' THEN NEW.rate_id ELSE OLD.rate_id END;
    END IF;
    SELECT status INTO st FROM rating_ratecardversion WHERE id = row_version;
  END IF;
  IF st = 'published' THEN
    RAISE EXCEPTION 'published rate card versions are immutable; create a new version instead'
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER version_immutable BEFORE UPDATE OR DELETE ON rating_ratecardversion
  FOR EACH ROW EXECUTE FUNCTION tally_refuse_published_change();
CREATE TRIGGER rate_immutable BEFORE INSERT OR UPDATE OR DELETE ON rating_rate
  FOR EACH ROW EXECUTE FUNCTION tally_refuse_published_change();
CREATE TRIGGER rate_tier_immutable BEFORE INSERT OR UPDATE OR DELETE ON rating_ratetier
  FOR EACH ROW EXECUTE FUNCTION tally_refuse_published_change();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS rate_tier_immutable ON rating_ratetier;
DROP TRIGGER IF EXISTS rate_immutable ON rating_rate;
DROP TRIGGER IF EXISTS version_immutable ON rating_ratecardversion;
DROP FUNCTION IF EXISTS tally_refuse_published_change();
"""
MESSAGE = "published rate card versions are immutable"
RATE_PUBLISHED = "(SELECT status FROM rating_ratecardversion WHERE id = {ref}.version_id) = 'published'"
TIER_PUBLISHED = (
    "(SELECT v.status FROM rating_ratecardversion v JOIN rating_rate r ON r.version_id = v.id"
    " WHERE r.id = {ref}.rate_id) = 'published'"
)
SQLITE = {
    "version_immutable_update": ("UPDATE", "rating_ratecardversion", "OLD.status = 'published'"),
    "version_immutable_delete": ("DELETE", "rating_ratecardversion", "OLD.status = 'published'"),
    "rate_immutable_insert": ("INSERT", "rating_rate", RATE_PUBLISHED.format(ref="NEW")),
    "rate_immutable_update": ("UPDATE", "rating_rate", RATE_PUBLISHED.format(ref="OLD")),
    "rate_immutable_delete": ("DELETE", "rating_rate", RATE_PUBLISHED.format(ref="OLD")),
    "rate_tier_immutable_insert": ("INSERT", "rating_ratetier", TIER_PUBLISHED.format(ref="NEW")),
    "rate_tier_immutable_update": ("UPDATE", "rating_ratetier", TIER_PUBLISHED.format(ref="OLD")),
    "rate_tier_immutable_delete": ("DELETE", "rating_ratetier", TIER_PUBLISHED.format(ref="OLD")),
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES)
    elif schema_editor.connection.vendor == "sqlite":
        for name, (op, table, when) in SQLITE.items():
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE {op} ON {table} WHEN {when} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_REVERSE)
    elif schema_editor.connection.vendor == "sqlite":
        for name in SQLITE:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("rating", "0002_rate_cards_tiers_contracts_history")]
    operations = [migrations.RunPython(forwards, backwards)]
