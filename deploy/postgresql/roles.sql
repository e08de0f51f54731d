-- GRUPO_GAD's database roles for production: the schema's owner runs migrations; the servers,
-- Celery and the bot connect as gad_app, which may read and write the domain's tables but can
-- neither delete nor truncate the audit trail (it prunes it only through auditoria_podar, which
-- runs with the owner's rights and removes nothing younger than a day). Run as the owner, after
-- `manage.py migrate`, and again after each migration that adds tables:
--   psql -v app_password="'...'" -f deploy/postgresql/roles.sql gad
-- Neither role may be a superuser: a superuser bypasses every privilege below. The position
-- history's day partitions are created by pg_partman's maintenance (efectivos.tasks, hourly),
-- which needs the owner: run that Celery beat entry's worker as the owner role, or schedule
-- `CALL partman.run_maintenance_proc()` as the owner with cron.
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gad_app') THEN
        CREATE ROLE gad_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
END $$;
ALTER ROLE gad_app LOGIN NOBYPASSRLS;
\if :{?app_password}
ALTER ROLE gad_app PASSWORD :app_password;
\endif
GRANT USAGE ON SCHEMA public TO gad_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO gad_app;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO gad_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO gad_app;
-- The trail: append and seal only.
REVOKE DELETE, TRUNCATE ON auditoria_registro, auditoria_ancla FROM gad_app;
REVOKE INSERT, UPDATE ON auditoria_ancla FROM gad_app;
GRANT EXECUTE ON FUNCTION auditoria_podar(timestamptz) TO gad_app;
-- Row-level security (gad_project/rls.py): gad_app is under the policies; the ingest's writer
-- threads connect as gad_ingesta, which the policies let through by name. The migration creates
-- both with DB_CLAVE_WEB / DB_CLAVE_INGESTA if missing; give gad_ingesta its password here:
--   psql -v app_password="'...'" -v ingesta_password="'...'" -f deploy/postgresql/roles.sql gad
\if :{?ingesta_password}
ALTER ROLE gad_ingesta PASSWORD :ingesta_password;
\endif
