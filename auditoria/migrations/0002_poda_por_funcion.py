"""Pruning through one SECURITY DEFINER function owned by the migrating role, so that the app's
runtime role needs no DELETE or TRUNCATE on the trail (deploy/postgresql/roles.sql revokes them);
the function deletes only records older than a day, and moves the anchor with them."""

from django.db import migrations

PODAR = """
CREATE FUNCTION auditoria_podar(limite timestamptz) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    ultimo record;
    borrados bigint;
BEGIN
    IF limite > now() - interval '1 day' THEN
        RAISE EXCEPTION 'auditoria_podar: only records older than a day may be pruned (limite %)', limite;
    END IF;
    PERFORM set_config('auditoria.podar', 'si', true);
    SELECT secuencia, hash INTO ultimo FROM auditoria_registro
        WHERE timestamp < limite AND secuencia IS NOT NULL ORDER BY secuencia DESC LIMIT 1;
    IF ultimo IS NULL THEN
        PERFORM set_config('auditoria.podar', '', true);
        RETURN 0;
    END IF;
    DELETE FROM auditoria_registro WHERE secuencia <= ultimo.secuencia;
    GET DIAGNOSTICS borrados = ROW_COUNT;
    INSERT INTO auditoria_ancla (id, secuencia, hash, podada_en) VALUES (1, ultimo.secuencia, ultimo.hash, now())
        ON CONFLICT (id) DO UPDATE SET secuencia = EXCLUDED.secuencia, hash = EXCLUDED.hash, podada_en = now();
    PERFORM set_config('auditoria.podar', '', true);
    RETURN borrados;
END $$;
REVOKE ALL ON FUNCTION auditoria_podar(timestamptz) FROM PUBLIC;
REVOKE DELETE, TRUNCATE ON auditoria_registro, auditoria_ancla FROM PUBLIC;
"""


class Migration(migrations.Migration):
    dependencies = [("auditoria", "0001_initial")]

    operations = [migrations.RunSQL(PODAR, "DROP FUNCTION IF EXISTS auditoria_podar(timestamptz);")]
