from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data (`cargar_demo`) and the patrol simulator (`simular_patrullas`). It seeds every
    app, so it sits above them all; no models of its own."""

    name = "demo"
    verbose_name = "Demostración"
