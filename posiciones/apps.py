from django.apps import AppConfig


class PosicionesConfig(AppConfig):
    """The ingest: what happens to a reading, from the bytes a phone sends to the events it raises.
    No models of its own: readings are stored in `efectivos.Posicion`."""

    name = "posiciones"
    verbose_name = "Ingesta de posiciones"
