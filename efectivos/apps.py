from django.apps import AppConfig


class EfectivosConfig(AppConfig):
    name = "efectivos"
    verbose_name = "Personal"

    def ready(self) -> None:
        from efectivos import signals  # noqa: F401  (connects the cache invalidation)
