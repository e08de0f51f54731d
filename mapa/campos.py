"""The field that names where a row is: filled by the database, never by the application."""

from __future__ import annotations

from django.db import models


class LugarField(models.CharField):
    """The place a row's point is at ("Avenida de Mayo y Bolívar", "Plaza de Mayo"), named by a
    trigger with gad_lugar_de (migration mapa 0005) when the row is inserted or its point moves,
    whatever path wrote it: the ingest's raw INSERT of alerts, the admin, the API. Empty without a
    street extract (the UI then shows coordinates). An UPDATE that does not move the point keeps the
    name unless it writes another (mapa.lugares.renombrar, after an extract is installed), so an
    instance saved with the empty value it was created with cannot blank it; an INSERT returns the
    name to the instance (db_returning)."""

    db_returning = True

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("db_default", "")
        kwargs.setdefault("editable", False)
        kwargs.setdefault("help_text", "Dónde es, según el extracto de calles instalado.")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "mapa.campos.LugarField", args, kwargs


def disparador(tabla: str, columna: str) -> tuple[str, str]:
    """The trigger's SQL for a migration (forward, reverse). Migrations keep the SQL they ran:
    they call this with literal names, and it must not change once a migration has used it."""
    funcion = f"{tabla}_lugar"
    return (
        f"""
CREATE OR REPLACE FUNCTION {funcion}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.{columna} IS NOT DISTINCT FROM OLD.{columna} THEN
        IF NEW.lugar = '' THEN  -- an instance saved with the value it was created with
            NEW.lugar := OLD.lugar;
        END IF;
    ELSIF NEW.{columna} IS NULL THEN
        NEW.lugar := '';
    ELSE
        NEW.lugar := coalesce(gad_lugar_de(ST_X(NEW.{columna}), ST_Y(NEW.{columna})), '');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER {funcion} BEFORE INSERT OR UPDATE ON {tabla} FOR EACH ROW EXECUTE FUNCTION {funcion}();
""",
        f"DROP TRIGGER IF EXISTS {funcion} ON {tabla}; DROP FUNCTION IF EXISTS {funcion}();",
    )
