from django.apps import AppConfig


class MensajesConfig(AppConfig):
    name = "mensajes"
    verbose_name = "Mensajes del mando"
    default_auto_field = "django.db.models.BigAutoField"
