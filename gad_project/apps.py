from django.apps import AppConfig


class GadProjectConfig(AppConfig):
    name = "gad_project"
    verbose_name = "GRUPO_GAD"
