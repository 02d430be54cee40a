"""The browsable API reference at /api/docs: Swagger UI from the Powertools package, no CDN."""

from __future__ import annotations

from pathlib import Path

from aws_lambda_powertools.event_handler.openapi import swagger_ui

ASSETS = Path(swagger_ui.__file__).parent
ASSET_TYPES = {"swagger-ui-bundle.min.js": "text/javascript", "swagger-ui.min.css": "text/css"}

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Squelch Act 1 demo API</title>
  <link rel="stylesheet" href="/api/docs/swagger-ui.min.css">
</head>
<body>
  <div id="swagger-ui">Loading...</div>
  <script src="/api/docs/swagger-ui-bundle.min.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
                                 docExpansion: "list", tryItOutEnabled: true});
  </script>
</body>
</html>
"""


def asset(name: str) -> tuple[bytes, str] | None:
    if name not in ASSET_TYPES:
        return None
    return (ASSETS / name).read_bytes(), ASSET_TYPES[name]
