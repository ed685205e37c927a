"""The console's built front end as `mount_ui` serves it: files, the client-side routes'
fallback to index.html, cache headers, and the note when there is no build."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from ari_app.console.static import IMMUTABLE, NO_CACHE, mount_ui


def app_with(dist: Path) -> TestClient:
    app = FastAPI()

    @app.get("/api/thing")
    def thing() -> dict[str, int]:
        return {"n": 1}

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    mount_ui(app, dist)
    return TestClient(app)


def built(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html>app</html>")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    (dist / "sw.js").write_text("// sw")
    (dist / "manifest.webmanifest").write_text("{}")
    (tmp_path / "secret.txt").write_text("outside")
    return dist


def test_without_a_build_the_root_says_how_to_build(tmp_path: Path) -> None:
    client = app_with(tmp_path / "none")
    res = client.get("/")
    assert res.status_code == 200 and "npm run build" in res.text
    assert client.get("/api/thing").json() == {"n": 1}
    assert client.get("/calls").status_code == 404


def test_files_routes_and_cache_headers(tmp_path: Path) -> None:
    client = app_with(built(tmp_path))
    root = client.get("/")
    assert root.text == "<html>app</html>" and root.headers["cache-control"] == NO_CACHE
    asset = client.get("/assets/index-abc123.js")
    assert asset.text == "console.log(1)" and asset.headers["cache-control"] == IMMUTABLE
    assert client.get("/sw.js").headers["cache-control"] == NO_CACHE
    assert client.get("/manifest.webmanifest").status_code == 200
    # client-side routes get the app, call ids with dots too
    for path in ("/live", "/calls", "/calls/1733370000.42", "/settings"):
        res = client.get(path)
        assert res.status_code == 200 and res.text == "<html>app</html>", path
    # not the app's: a missing asset, the API and the health check
    assert client.get("/assets/index-old.js").status_code == 404
    assert client.get("/api/thing").json() == {"n": 1}
    assert client.get("/api/nothing").status_code == 404
    assert client.get("/metrics").status_code == 404
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.post("/api/nothing").status_code == 404  # not 405 from the UI's GET route
    assert client.get("/apiary").status_code == 200  # only /api itself is the API's
    # nothing outside the build
    assert "outside" not in client.get("/..%2Fsecret.txt").text
    assert "outside" not in client.get("/assets/..%2F..%2Fsecret.txt").text
