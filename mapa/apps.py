from django.apps import AppConfig


class MapaConfig(AppConfig):
    name = "mapa"
    verbose_name = "Mapa de operaciones"
