from django.apps import AppConfig


class SeguridadConfig(AppConfig):
    name = "seguridad"
    verbose_name = "Seguridad del personal"
    default_auto_field = "django.db.models.BigAutoField"
