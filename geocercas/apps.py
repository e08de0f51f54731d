from django.apps import AppConfig


class GeocercasConfig(AppConfig):
    name = "geocercas"
    verbose_name = "Geocercas y alertas"
