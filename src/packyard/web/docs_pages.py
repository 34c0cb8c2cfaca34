"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) for the REST API, with every asset served
from this origin: the pinned ``fastapi-offline`` package carries Swagger UI's and ReDoc's
files, mounted at ``/static/docs``; the start-up script is ``/static/swagger-init.js``.

These pages run on the UI's origin, next to its session cookie, so a script from a CDN (a
floating version, no integrity check) would be a way in. Their Content-Security-Policy is
the UI's with two allowances the two libraries need: inline styles, and ReDoc's worker
from a ``blob:`` URL. No inline script.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS = "/static/docs"
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DOCS_HEADERS = {
    "Content-Security-Policy": DOCS_CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _page(head: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Packyard API</title>
<link rel="icon" href="{ASSETS}/favicon.png">
{head}
</head>
<body>
{body}
</body>
</html>
"""


SWAGGER_PAGE = _page(
    f'<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">',
    '<div id="swagger-ui" data-openapi-url="/openapi.json"></div>\n'
    f'<script src="{ASSETS}/swagger-ui-bundle.js"></script>\n'
    '<script src="/static/swagger-init.js"></script>',
)
REDOC_PAGE = _page(
    "",
    '<redoc spec-url="/openapi.json"></redoc>\n'
    f'<script src="{ASSETS}/redoc.standalone.js"></script>',
)


def install_docs(app: FastAPI) -> None:
    """Add ``/docs``, ``/redoc`` and their assets; ``app`` was made with both turned off."""
    import fastapi_offline

    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount(ASSETS, StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(SWAGGER_PAGE, headers=DOCS_HEADERS)

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return HTMLResponse(REDOC_PAGE, headers=DOCS_HEADERS)
