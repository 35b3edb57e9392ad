"""OpenAPI additions shared by every endpoint."""

from mes.api.idempotency import HEADER

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "instance": {"type": "string", "nullable": True},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
                "required": ["field", "code", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail", "code"],
    "additionalProperties": True,
}

_ERROR_STATUSES = {
    "400": "Invalid input.",
    "401": "Not authenticated.",
    "403": "The caller's role may not do this.",
    "404": "No such resource.",
    "409": "A business rule or state machine refused the request.",
    "422": "The Idempotency-Key was used for a different request.",
    "429": "Too many requests.",
}


def add_platform_headers(result, generator, request, public):
    """Document ``Idempotency-Key`` on state-changing operations and problem+json errors."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, operations in result.get("paths", {}).items():
        upsert = operations.get("put") if "/by-external-id/" in path else None
        if upsert and "200" in upsert.get("responses", {}):
            upsert["responses"]["200"]["description"] = "Updated."
            upsert["responses"].setdefault("201", {**upsert["responses"]["200"], "description": "Created."})
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _ERROR_STATUSES.items():
                if status == "422" and method not in ("post", "put", "patch"):
                    continue
                if status == "401" and operation.get("security") == [{}]:
                    continue
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    },
                )
            if method in ("post", "put", "patch"):
                params = operation.setdefault("parameters", [])
                if not any(p.get("name") == HEADER for p in params):
                    params.append(
                        {
                            "in": "header",
                            "name": HEADER,
                            "required": False,
                            "schema": {"type": "string", "maxLength": 255},
                            "description": "Makes the request safe to retry: a retry with the same key "
                            "returns the first response and changes nothing.",
                        }
                    )
    return result
