"""`GET /api/v1/efectivos/recorridos/`: who was where — several efectivos' tracks in one time
window (a unidad, or those seen inside a drawn area), for the map's replay on one slider."""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from auditoria.web import PARAMETROS_MOTIVO, auditar_acceso, motivo_de, parametros_motivo
from efectivos.selectors import efectivos_visibles
from gad_project import bd
from gad_project.api.params import param_bbox, param_fecha, param_int
from gad_project.api.permissions import EsMando
from gad_project.exceptions import EntradaInvalida
from gad_project.tiempo import iso

MAX_EFECTIVOS = 300
MAX_PUNTOS = 600  # per efectivo: the replay moves markers, it does not need every reading
VENTANA_MAX = timedelta(hours=24)

# The readings of the efectivos in scope (and, with an area, only those seen inside it during the
# window) numbered per efectivo, then thinned evenly to MAX_PUNTOS each (the last one kept).
_SQL = """
WITH alcance AS ({alcance}),
vistos AS (
    SELECT DISTINCT p.efectivo_id FROM efectivos_posicion p
    WHERE p.efectivo_id IN (SELECT id FROM alcance) AND p.registrada_en BETWEEN %s AND %s AND NOT p.implausible
      AND (%s::geometry IS NULL OR p.punto && %s::geometry AND ST_Intersects(p.punto, %s::geometry))
    LIMIT {max_efectivos}
),
numeradas AS (
    SELECT p.efectivo_id, ST_X(p.punto) AS lon, ST_Y(p.punto) AS lat, p.registrada_en,
           row_number() OVER w AS n, count(*) OVER (PARTITION BY p.efectivo_id) AS total
    FROM efectivos_posicion p
    WHERE p.efectivo_id IN (SELECT efectivo_id FROM vistos) AND p.registrada_en BETWEEN %s AND %s AND NOT p.implausible
    WINDOW w AS (PARTITION BY p.efectivo_id ORDER BY p.registrada_en, p.id)
)
SELECT n.efectivo_id, e.codigo_interno, e.apellido || ', ' || e.nombre, e.unidad_id,
       json_agg(json_build_array(round(n.lon::numeric, 6), round(n.lat::numeric, 6), n.registrada_en) ORDER BY n.n)
FROM numeradas n JOIN efectivos_efectivo e ON e.id = n.efectivo_id
WHERE (n.n - 1) %% greatest(1, ceil(n.total::numeric / {max_puntos})::int) = 0 OR n.n = n.total
GROUP BY 1, 2, 3, 4
ORDER BY 2
"""


class _Track(serializers.Serializer):
    id = serializers.IntegerField()
    codigo = serializers.CharField()
    nombre = serializers.CharField()
    unidad = serializers.IntegerField()
    puntos = serializers.ListField(child=serializers.ListField(), help_text="[lon, lat, registrada_en], en orden")


class RecorridosSerializer(serializers.Serializer):
    desde = serializers.DateTimeField()
    hasta = serializers.DateTimeField()
    efectivos = _Track(many=True)
    truncado = serializers.BooleanField(help_text=f"Más de {MAX_EFECTIVOS} efectivos: se muestran los primeros.")


class RecorridosView(APIView):
    """The tracks of every efectivo in scope (or of one `unidad`, or of those seen inside `bbox`)
    between `desde` and `hasta` (at most 24 h), thinned to at most 600 points each."""

    permission_classes = [EsMando]

    @extend_schema(
        operation_id="efectivos_recorridos",
        parameters=[
            OpenApiParameter("desde", OpenApiTypes.DATETIME, description="ISO 8601 con zona; por defecto 1 h antes"),
            OpenApiParameter("hasta", OpenApiTypes.DATETIME, description="ISO 8601 con zona; por defecto ahora"),
            *PARAMETROS_MOTIVO,
            OpenApiParameter("unidad", int),
            OpenApiParameter("bbox", str, description="min_lon,min_lat,max_lon,max_lat: quienes pasaron por ahí"),
        ],
        responses={200: RecorridosSerializer},
    )
    def get(self, request):
        p = request.query_params
        motivo = motivo_de(request, clave="quien")
        hasta = param_fecha(p, "hasta") or timezone.now()
        desde = param_fecha(p, "desde") or hasta - timedelta(hours=1)
        if desde >= hasta:
            raise EntradaInvalida("`desde` debe ser anterior a `hasta`.", detalle={"desde": p.get("desde")})
        if hasta - desde > VENTANA_MAX:
            raise EntradaInvalida("La ventana es de 24 h como máximo.", detalle={"horas_max": 24})
        alcance = efectivos_visibles(usuario=request.user)
        if (unidad := param_int(p, "unidad", minimo=1, maximo=2**62)) is not None:
            alcance = alcance.filter(unidad_id=unidad)
        bbox = param_bbox(p)
        area = None
        if bbox is not None:
            area = "SRID=4326;POLYGON(({0} {1},{2} {1},{2} {3},{0} {3},{0} {1}))".format(*bbox)
        sub, params = alcance.values("id").query.sql_with_params()
        sql = _SQL.format(alcance=sub, max_efectivos=MAX_EFECTIVOS + 1, max_puntos=MAX_PUNTOS)
        with bd.cursor_tolerante() as c:  # a replay tolerates the replica's lag
            c.execute(sql, [*params, desde, hasta, area, area, area, desde, hasta])
            filas = c.fetchall()
        auditar_acceso(
            request,
            request.user,
            "quién estaba dónde",
            desde=iso(desde),
            hasta=iso(hasta),
            unidad=unidad,
            bbox=p.get("bbox"),
            efectivos=[f[0] for f in filas],  # whom it showed: each sees it in their accesses
            **parametros_motivo(motivo),
        )
        efectivos = [
            {
                "id": f[0],
                "codigo": f[1],
                "nombre": f[2],
                "unidad": f[3],
                "puntos": json.loads(f[4]) if isinstance(f[4], str) else f[4],
            }
            for f in filas[:MAX_EFECTIVOS]
        ]
        return Response(
            {"desde": iso(desde), "hasta": iso(hasta), "efectivos": efectivos, "truncado": len(filas) > MAX_EFECTIVOS}
        )
