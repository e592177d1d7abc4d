"""The generated OpenAPI spec documents every endpoint and its problem+json errors."""

from __future__ import annotations

from typing import Any


def test_spec_lists_every_endpoint_with_error_schema(client: Any) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    expected = {
        ("/api/v1/reports", "post"),
        ("/api/v1/reports/{tracking_id}", "get"),
        ("/api/v1/reports/{tracking_id}/replies", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/tasks", "get"),
        ("/api/v1/tasks/{task_id}", "get"),
        ("/api/v1/tasks/{task_id}/claim", "post"),
        ("/api/v1/tasks/{task_id}/complete", "post"),
    }
    documented = {
        (path, method)
        for path, ops in paths.items()
        for method in ops
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert expected <= documented
    problem = spec["components"]["schemas"]["Problem"]
    assert {"title", "status", "detail", "field"} <= set(problem["properties"])
    for path, method in expected:
        responses = paths[path][method]["responses"]
        assert "default" in responses, (path, method)
        content = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]
        assert any(v["schema"]["$ref"].endswith("/Problem") for v in content.values())
    for name, response in spec["components"]["responses"].items():  # as errors.problem sends
        if "content" in response:
            assert set(response["content"]) == {"application/problem+json"}, name


def test_docs_page_uses_the_locally_served_swagger_ui(client: Any) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/vendor/swagger-ui-dist/swagger-ui-bundle.js" in html
    bundle = client.get("/vendor/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.get_data()) > 100_000
    bundle.close()
