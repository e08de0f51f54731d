"""Row-level security on the tables that hold people's data (gad_project.rls).

Every policy reads the transaction's context (`gad.rol`, `gad.unidad`, `gad.usuario`, set by
gad_project.rls) through four small functions:
- `rls_todo()`: an administrator, or one of the contexts allowed everything by design:
  `sistema` (Celery, the bot, management commands) and `ingesta` (readings and device auth);
- `rls_unidad()`: a commander's unidad;
- `rls_usuario()`: the signed-in user (an efectivo's own record is the one with that user).
No context: every function is false or NULL, so no row passes.

Visibility follows foreign keys: a row that belongs to an efectivo is visible when that efectivo
is (of the commander's unidad, or the signed-in efectivo), a task's history with the task, an
alert's notes with the alert, a message with its deliveries. No policy refers back to a table that
refers to it, so none recurses.

Tables are FORCEd, so even their owner is subject when not a superuser. The web servers connect as
the runtime role (`gad_app`, DB_USUARIO_WEB), granted the domain's tables here and the tables of
later migrations by default privileges.
"""

from django.conf import settings
from django.db import migrations

FUNCIONES = """
CREATE OR REPLACE FUNCTION rls_todo() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT coalesce(current_setting('gad.rol', true), '') IN ('administrador', 'sistema', 'ingesta') $$;
CREATE OR REPLACE FUNCTION rls_unidad() RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN current_setting('gad.rol', true) = 'comandante'
               THEN nullif(current_setting('gad.unidad', true), '')::bigint END $$;
CREATE OR REPLACE FUNCTION rls_usuario() RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN coalesce(current_setting('gad.rol', true), '') <> ''
               THEN nullif(current_setting('gad.usuario', true), '')::bigint END $$;
"""

# (table, condition). `(SELECT f())` makes each function an InitPlan: computed once per statement.
# A row of an efectivo's: a commander's unidad's efectivos (one index scan, hashed once per
# statement), or the signed-in efectivo's own (one unique-index lookup). Not spelled as
# `IN (SELECT id FROM efectivos_efectivo)`: that reads the whole table under its OR-ed policy.
POR_EFECTIVO = (
    "efectivo_id IN (SELECT id FROM efectivos_efectivo WHERE unidad_id = (SELECT rls_unidad())) "
    "OR efectivo_id = (SELECT id FROM efectivos_efectivo WHERE usuario_id = (SELECT rls_usuario()))"
)
POLITICAS = [
    (
        "efectivos_efectivo",
        "unidad_id = (SELECT rls_unidad()) OR usuario_id = (SELECT rls_usuario())",
    ),
    ("efectivos_posicion", POR_EFECTIVO),
    ("efectivos_dispositivo", POR_EFECTIVO),
    ("efectivos_turno", POR_EFECTIVO),
    ("geocercas_alerta", POR_EFECTIVO),
    ("geocercas_alertanota", "alerta_id IN (SELECT id FROM geocercas_alerta)"),
    ("seguridad_sos", POR_EFECTIVO),
    # Dispatch takes efectivos from the task's own unidad (tareas.selectors.alcance_de_despacho):
    # an assignment is visible with its efectivo, a task in its unidad or to whoever holds it.
    ("tareas_asignacion", POR_EFECTIVO),
    (
        "tareas_tarea",
        "unidad_id = (SELECT rls_unidad()) OR id IN (SELECT tarea_id FROM tareas_asignacion)",
    ),
    ("tareas_tareaevento", "tarea_id IN (SELECT id FROM tareas_tarea)"),
    ("mensajes_entrega", POR_EFECTIVO),
    ("mensajes_respuesta", POR_EFECTIVO),
    (
        "mensajes_mensaje",
        "autor_id = (SELECT rls_usuario()) OR id IN (SELECT mensaje_id FROM mensajes_entrega)",
    ),
]

# The audit trail: anyone appends (a failed sign-in has no user); reads as the trail's own scope:
# a commander their unidad's records, anyone their own acts and every read of their own data.
REGISTRO = """
ALTER TABLE auditoria_registro ENABLE ROW LEVEL SECURITY;
ALTER TABLE auditoria_registro FORCE ROW LEVEL SECURITY;
CREATE POLICY rls_leer ON auditoria_registro FOR SELECT USING (
    (SELECT rls_todo())
    OR unidad_id = (SELECT rls_unidad())
    OR actor_id = (SELECT rls_usuario())
    OR (action = 3 AND EXISTS (
        SELECT 1 FROM efectivos_efectivo e WHERE e.usuario_id = (SELECT rls_usuario())
        AND ((auditoria_registro.object_id = e.id AND auditoria_registro.content_type_id =
              (SELECT id FROM django_content_type WHERE app_label = 'efectivos' AND model = 'efectivo'))
             OR auditoria_registro.additional_data -> 'efectivos' @> to_jsonb(e.id))))
);
CREATE POLICY rls_agregar ON auditoria_registro FOR INSERT WITH CHECK (true);
CREATE POLICY rls_sellar ON auditoria_registro FOR UPDATE USING ((SELECT rls_todo()));
CREATE POLICY rls_podar ON auditoria_registro FOR DELETE USING ((SELECT rls_todo()));
-- The chain's trigger reads the newest record whoever inserts: it runs with its owner's rights.
ALTER FUNCTION auditoria_encadenar() SECURITY DEFINER SET search_path = pg_catalog, public;
"""

DESHACER_REGISTRO = """
ALTER FUNCTION auditoria_encadenar() SECURITY INVOKER RESET search_path;
DROP POLICY IF EXISTS rls_leer ON auditoria_registro;
DROP POLICY IF EXISTS rls_agregar ON auditoria_registro;
DROP POLICY IF EXISTS rls_sellar ON auditoria_registro;
DROP POLICY IF EXISTS rls_podar ON auditoria_registro;
ALTER TABLE auditoria_registro NO FORCE ROW LEVEL SECURITY;
ALTER TABLE auditoria_registro DISABLE ROW LEVEL SECURITY;
"""


def _rol_crear(rol: str, clave: str) -> str:
    """A runtime role, created with its password if missing (a role belongs to the whole cluster:
    one made by scripts/services.sh or deploy/postgresql/roles.sql is kept as it is).

    Several databases of one cluster may migrate at once (the test suite's workers): the one that
    loses the race to create the role finds it made, which is what it wanted."""
    clave = clave.replace("'", "''")
    return f"""
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{rol}') THEN
        CREATE ROLE {rol} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD '{clave}';
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;"""


def _politicas() -> str:
    ingesta = settings.DB_USUARIO_INGESTA
    sql = [_rol_crear(ingesta, settings.DB_CLAVE_INGESTA)] if ingesta else []
    for tabla, condicion in POLITICAS:
        expresion = f"(SELECT rls_todo()) OR {condicion}"
        sql += [
            f"ALTER TABLE {tabla} ENABLE ROW LEVEL SECURITY;",
            f"ALTER TABLE {tabla} FORCE ROW LEVEL SECURITY;",
            f"CREATE POLICY rls ON {tabla} USING ({expresion}) WITH CHECK ({expresion});",
        ]
        if ingesta:
            # The ingest's role, by name: a constant the planner folds away (no per-row checks).
            sql.append(f"CREATE POLICY rls_ingesta ON {tabla} TO {ingesta} USING (true) WITH CHECK (true);")
    if ingesta:
        # Readings posted by someone else are audited by the ingest (auditoria.registro).
        sql += [
            f"CREATE POLICY rls_ingesta_agregar ON auditoria_registro FOR INSERT TO {ingesta} WITH CHECK (true);",
            f"CREATE POLICY rls_ingesta_leer ON auditoria_registro FOR SELECT TO {ingesta} USING (true);",
        ]
    return "\n".join(sql)


def _deshacer_politicas() -> str:
    sql = [
        "DROP POLICY IF EXISTS rls_ingesta_agregar ON auditoria_registro;",
        "DROP POLICY IF EXISTS rls_ingesta_leer ON auditoria_registro;",
    ]
    for tabla, _ in POLITICAS:
        sql += [
            f"DROP POLICY IF EXISTS rls_ingesta ON {tabla};",
            f"DROP POLICY IF EXISTS rls ON {tabla};",
            f"ALTER TABLE {tabla} NO FORCE ROW LEVEL SECURITY;",
            f"ALTER TABLE {tabla} DISABLE ROW LEVEL SECURITY;",
        ]
    return "\n".join(sql)


def _concesiones(rol: str, clave: str) -> str:
    """A runtime role, created if missing, granted the domain's tables."""
    if not rol:
        return "SELECT 1;"
    return _rol_crear(rol, clave) + f"""
GRANT USAGE ON SCHEMA public TO {rol};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {rol};
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {rol};
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {rol};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {rol};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {rol};
-- What PostgreSQL says of itself (the /metrics scrape): connections by state, replicas' lag.
DO $$ BEGIN
    GRANT pg_monitor TO {rol};
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
-- The trail: append and seal only (auditoria_podar prunes it with the owner's rights).
REVOKE DELETE, TRUNCATE ON auditoria_registro, auditoria_ancla FROM {rol};
REVOKE INSERT, UPDATE ON auditoria_ancla FROM {rol};
"""


class Migration(migrations.Migration):
    dependencies = [
        ("efectivos", "0013_servicio_funcion"),
        ("geocercas", "0010_controles_de_ruido"),
        ("tareas", "0006_alter_asignacion_motivo_alter_tareaevento_motivo"),
        ("seguridad", "0006_alter_sos_nota"),
        ("mensajes", "0002_alter_mensaje_texto_alter_respuesta_texto"),
        ("auditoria", "0004_acceso_datos_indice"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunSQL(
            FUNCIONES,
            "DROP FUNCTION IF EXISTS rls_todo(); DROP FUNCTION IF EXISTS rls_unidad(); "
            "DROP FUNCTION IF EXISTS rls_usuario();",
        ),
        migrations.RunSQL(_politicas(), _deshacer_politicas()),
        migrations.RunSQL(REGISTRO, DESHACER_REGISTRO),
        migrations.RunSQL(_concesiones(settings.DB_USUARIO_WEB, settings.DB_CLAVE_WEB), migrations.RunSQL.noop),
        migrations.RunSQL(
            _concesiones(settings.DB_USUARIO_INGESTA, settings.DB_CLAVE_INGESTA), migrations.RunSQL.noop
        ),
    ]
