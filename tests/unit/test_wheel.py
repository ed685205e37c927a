"""`pip install` of the package gives what the call path needs at run time: the wheel
carries the call database's Alembic migrations (read from files when it opens), not only
the Python modules."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = REPO / "ari_app" / "storage" / "migrations"


def test_the_wheel_carries_every_migration(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {f"ari_app/storage/{p.relative_to(MIGRATIONS.parent)}"
              for p in MIGRATIONS.rglob("*") if p.suffix in (".py", ".mako")}
    assert len(wanted) >= 4 and wanted <= names, sorted(wanted - names)
    assert "ari_app/storage/migrations/script.py.mako" in names
