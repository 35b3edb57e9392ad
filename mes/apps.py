from django.apps import AppConfig


class MesConfig(AppConfig):
    name = "mes"
    verbose_name = "Platform"

    def ready(self) -> None:
        from mes import audit, history
        from mes.db import timestamps
        from mes.api import filters

        audit.register_audited_models()
        history.connect()
        filters.install()
        timestamps.connect()
