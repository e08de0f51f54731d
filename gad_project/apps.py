import logging

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class GadProjectConfig(AppConfig):
    name = "gad_project"
    verbose_name = "GRUPO_GAD"

    def ready(self) -> None:
        from prometheus_client import values

        from gad_project import accesos, limites, metricas  # noqa: F401  (accesos: its receivers)

        if values.ValueClass is values.MutexValue:
            # prometheus_client was imported before the settings set PROMETHEUS_MULTIPROC_DIR:
            # this process's metrics would be its own only, never on /metrics.
            logger.error("prometheus_client is not in multiprocess mode: set PROMETHEUS_MULTIPROC_DIR")
        metricas.celery_conectar()
        # A malformed limit stops start-up (ImproperlyConfigured), like every other setting.
        limites.posiciones(), limites.escrituras(), limites.ingreso_limites()
