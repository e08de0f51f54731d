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
        _tokens_en_castellano()
        # A malformed limit stops start-up (ImproperlyConfigured), like every other setting.
        limites.posiciones(), limites.escrituras(), limites.ingreso_limites()


def _tokens_en_castellano() -> None:
    """SimpleJWT's refresh-token blacklist, named in Spanish in the admin (the library's Spanish
    catalogue leaves it half translated). Only display names change, not the models' declared
    options: migrations see nothing. (The app must stay listed by its module path: SimpleJWT
    makes its models abstract otherwise.)"""
    from django.apps import apps
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    apps.get_app_config("token_blacklist").verbose_name = "Sesiones de la API"
    for modelo, singular, plural in (
        (OutstandingToken, "token emitido", "tokens emitidos"),
        (BlacklistedToken, "token revocado", "tokens revocados"),
    ):
        modelo._meta.verbose_name, modelo._meta.verbose_name_plural = singular, plural
