from django.apps import AppConfig


class ExportesConfig(AppConfig):
    """Files for GIS tools and spreadsheets (GPX, KML, GeoJSON, CSV), streamed: the writers
    (`formatos.py`) and the `/api/v1/exportes/` endpoints. No models: the rows come from the
    selectors of the apps that own them."""

    name = "exportes"
    verbose_name = "Exportes"
