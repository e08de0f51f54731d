from django.apps import AppConfig


class EfectivosConfig(AppConfig):
    name = "efectivos"
    verbose_name = "Personal"

    def ready(self) -> None:
        from efectivos import signals  # noqa: F401  (connects the cache invalidation)
        from efectivos.metrics import DispositivosPorEstado, EfectivosPorEstado
        from gad_project.metricas import colector_registrar

        colector_registrar(EfectivosPorEstado())
        colector_registrar(DispositivosPorEstado())
