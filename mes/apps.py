from django.apps import AppConfig


class MesConfig(AppConfig):
    name = "mes"
    verbose_name = "Platform"

    def ready(self) -> None:
        from mes import history
        from mes.api import filters

        history.connect()
        filters.install()
