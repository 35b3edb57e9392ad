from rest_framework.metadata import SimpleMetadata


class ActionAwareMetadata(SimpleMetadata):
    """OPTIONS answers for list-level custom actions too (they have no object to look up)."""

    def determine_actions(self, request, view):
        lookup = view.lookup_url_kwarg or view.lookup_field
        if getattr(view, "detail", None) is False or lookup not in getattr(view, "kwargs", {}):
            actions = {}
            for method in {"PUT", "POST"} & set(view.allowed_methods):
                view.request = request.__class__(request._request, parsers=request.parsers)  # noqa: SLF001
                view.request.method = method
                try:
                    view.check_permissions(view.request)
                except Exception:  # noqa: BLE001 - no permission means nothing to describe
                    continue
                finally:
                    view.request = request
                if method == "POST" or not hasattr(view, "get_serializer"):
                    actions[method] = self.get_serializer_info(view.get_serializer())
            return actions
        return super().determine_actions(request, view)
