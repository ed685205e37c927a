"""The console's web front end: the static files built from `console-ui/` (Vue 3 + Vite) by
the set-up, served at `/` by the console server. Without a build only the API is served,
and `/` says how to build the front end.

The app routes on the client (`/live`, `/calls/<id>`, ...): a GET for a path that is not a
built file gets `index.html`. `/api`, `/metrics` and `/healthz` are never answered here.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, PlainTextResponse, Response
from starlette.convertors import Convertor, register_url_convertor

DIST = Path(__file__).resolve().parent / "static_dist"

NOT_BUILT = (
    "The console's web front end is not built.\n"
    "Build it with scripts/setup, or by hand: cd console-ui && npm ci && npm run build\n"
    "(it goes to ari_app/console/static_dist/). The JSON API is at /api (/api/docs).\n"
)

# Vite names what it puts under assets/ by a hash of the content: such a file never changes
IMMUTABLE = "public, max-age=31536000, immutable"
# index.html and the service worker are asked again every time (they name the new build)
NO_CACHE = "no-cache"
OTHER = "public, max-age=3600"  # the manifest, the icons



class _UiPath(Convertor[str]):
    """Any path but `/api...`, `/metrics` and `/healthz`: those never reach the UI's route
    (so a POST to a missing /api route is a 404, not a 405 from the UI's GET route)."""

    regex = r"(?!(?:api|metrics|healthz)(?:/|$)).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("ui_path", _UiPath())


def cache_control(relative: str) -> str:
    if relative.startswith("assets/"):
        return IMMUTABLE
    if relative in ("index.html", "sw.js"):
        return NO_CACHE
    return OTHER


def mount_ui(app: FastAPI, dist: Path = DIST) -> None:
    """Serve the built front end at `/` (after the `/api` routes, which take precedence)."""
    index = dist / "index.html"
    if not index.is_file():

        @app.get("/", include_in_schema=False)
        def not_built() -> Response:
            return PlainTextResponse(NOT_BUILT)

        return
    root = dist.resolve()

    @app.api_route("/{path:ui_path}", methods=["GET", "HEAD"], include_in_schema=False)
    def ui(path: str) -> Response:
        relative = "index.html"
        if path:
            wanted = (root / path).resolve()
            if wanted.is_file() and wanted.is_relative_to(root):
                relative = wanted.relative_to(root).as_posix()
            elif path.startswith("assets/"):
                # a missing built file (an old build's hash): not the app's page
                raise HTTPException(404, "Not Found")
        return FileResponse(root / relative, headers={"Cache-Control": cache_control(relative)})
