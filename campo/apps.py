from django.apps import AppConfig


class CampoConfig(AppConfig):
    name = "campo"
    verbose_name = "App de campo"
    default_auto_field = "django.db.models.BigAutoField"
