from django.apps import AppConfig


class EfectivosConfig(AppConfig):
    name = "efectivos"
    verbose_name = "Personal"
