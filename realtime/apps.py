from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Tiempo real"

    def ready(self) -> None:
        from gad_project.metricas import colector_registrar
        from realtime.metrics import RegistroDeEventos

        colector_registrar(RegistroDeEventos())
