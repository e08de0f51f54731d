from __future__ import annotations

from django.apps import AppConfig


class AuditoriaConfig(AppConfig):
    name = "auditoria"
    verbose_name = "Auditoría"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from auditoria import registro

        registro.registrar_modelos()
