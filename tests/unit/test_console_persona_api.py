"""The persona editor's API: admin only (401/403), CSRF on a save, 422 naming the field and
writing nothing, 409 for a stale edit, and a good save written, backed up and audited."""

from __future__ import annotations

import copy
from pathlib import Path

from console_fixtures import console, login

from ari_app.console.auth import CSRF_HEADER


async def test_only_an_admin_reads_or_saves_a_persona(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        assert (await client.get("/api/persona/default")).status_code == 401
        assert (await client.get("/api/personas")).status_code == 401
        csrf = await login(client, "rita")
        assert (await client.get("/api/persona/default")).status_code == 403
        put = await client.put("/api/persona/default", json={"yaml": "x: 1\n"},
                               headers={CSRF_HEADER: csrf})
        assert put.status_code == 403
        assert c.personas.read("default").text.startswith("# The default persona")


async def test_a_form_save_is_checked_written_backed_up_and_audited(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        csrf = await login(client, "root")
        assert (await client.get("/api/personas")).json() == {"items": ["default"]}
        got = (await client.get("/api/persona/default")).json()
        assert got["persona"]["hours"]["sat"] == "closed"
        assert got["yaml"] == c.personas.path("default").read_text(encoding="utf-8")
        data = copy.deepcopy(got["persona"])
        data["hours"]["sat"] = "25:00-14:00"
        body = {"persona": data, "version": got["version"]}
        assert (await client.put("/api/persona/default", json=body)).status_code == 403  # CSRF
        headers = {CSRF_HEADER: csrf}
        bad = await client.put("/api/persona/default", json=body, headers=headers)
        assert bad.status_code == 422, bad.text
        assert "hours.sat" in [e["field"] for e in bad.json()["detail"]["errors"]]
        assert c.personas.read("default").version == got["version"]  # nothing written
        data["hours"]["sat"] = "10:00-14:00"
        good = await client.put("/api/persona/default", json=body, headers=headers)
        assert good.status_code == 200, good.text
        assert good.json()["persona"]["hours"]["sat"] == "10:00-14:00"
        assert c.personas.read("default").data["hours"]["sat"] == "10:00-14:00"
        assert len(c.personas.backups("default")) == 1
        stale = await client.put("/api/persona/default", json=body, headers=headers)
        assert stale.status_code == 409  # `version` is the one before the save
        audit = [(a["who"], a["what"]) for a in await c.users.audit_log(5)]
        assert ("root", "persona_saved") in audit


async def test_a_yaml_save_and_bad_requests(tmp_path: Path) -> None:
    async with console(tmp_path) as c, c.client() as client:
        headers = {CSRF_HEADER: await login(client, "root")}
        got = (await client.get("/api/persona/default")).json()
        broken = await client.put("/api/persona/default", headers=headers,
                                  json={"yaml": "languages: [ru\n", "version": got["version"]})
        assert broken.status_code == 422
        assert [e["field"] for e in broken.json()["detail"]["errors"]] == ["yaml"]
        text = got["yaml"].replace("sat: closed", 'sat: "11:00-15:00"')
        saved = await client.put("/api/persona/default", headers=headers,
                                 json={"yaml": text, "version": got["version"]})
        assert saved.status_code == 200 and saved.json()["yaml"] == text
        both = await client.put("/api/persona/default", headers=headers,
                                json={"yaml": text, "persona": got["persona"]})
        assert both.status_code == 422
        assert (await client.get("/api/persona/nobody")).status_code == 404
        assert (await client.get("/api/persona/..%2Fetc")).status_code in (404, 422)
