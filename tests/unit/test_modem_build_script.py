"""scripts/build-chan-quectel: only --help, --dry-run and the refusals run here (a real run
fetches and compiles; docs/modem.md records one in a Debian sid root with Asterisk 22). The plan
must pin one upstream commit, patch it, and install the module only."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from modem.quectel_conf import CHAN_QUECTEL_COMMIT

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build-chan-quectel"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=30,
                          check=False)


def test_help() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "asterisk-dev" in result.stdout and "--dry-run" in result.stdout


def test_dry_run_plans_a_pinned_build_and_runs_nothing(tmp_path: Path) -> None:
    work = tmp_path / "work"
    result = run("--dry-run", "--workdir", str(work), "--moddir", str(tmp_path / "mods"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    pinned = re.search(r"RoEdAl/asterisk-chan-quectel at ([0-9a-f]{40})", out)
    assert pinned and pinned.group(1) == CHAN_QUECTEL_COMMIT   # one commit, also in the docs
    assert f"fetch --depth 1 https://github.com/RoEdAl/asterisk-chan-quectel {pinned.group(1)}" \
        in out
    assert "+ cmake -S" in out and "+ cmake --build" in out
    assert "+ patch -d" in out and "src/mutils.h" in out          # the enum2str_def fix
    assert f"{tmp_path / 'mods'}/chan_quectel.so" in out
    assert "quectel.conf" not in out.split("+ install", 1)[1].split("\n", 1)[0]
    assert not work.exists()            # nothing fetched or created


def test_unknown_option_is_refused() -> None:
    assert run("--frobnicate").returncode == 2


def fake_source(path: Path) -> Path:
    """A directory shaped like chan_quectel's source (not the real one)."""
    (path / "src").mkdir(parents=True)
    (path / "CMakeLists.txt").write_text("# not built here\n")
    (path / "src" / "chan_quectel.c").write_text("/* not built here */\n")
    return path


def test_plain_source_is_used_with_a_warning_and_not_fetched(tmp_path: Path) -> None:
    src = fake_source(tmp_path / "src")
    work = tmp_path / "work"
    result = run("--dry-run", "--source", str(src), "--workdir", str(work),
                 "--moddir", str(tmp_path / "mods"))
    assert result.returncode == 0, result.stderr
    assert "not a git repository" in result.stderr and "unverified" in result.stderr
    assert "+ git" not in result.stdout                    # no fetch, no archive
    assert f"+ cp -a {src}/. {work}/src-" in result.stdout
    assert not work.exists()


def test_source_that_is_not_chan_quectel_is_refused(tmp_path: Path) -> None:
    result = run("--dry-run", "--source", str(tmp_path))
    assert result.returncode == 1
    assert f"--source {tmp_path}: not chan_quectel's source" in result.stderr


def test_missing_source_dir_is_refused(tmp_path: Path) -> None:
    result = run("--dry-run", "--source", str(tmp_path / "nowhere"))
    assert result.returncode == 1 and "--source: no directory" in result.stderr


def test_git_source_without_the_pinned_commit_is_refused(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        return                                          # nothing to check without git
    repo = fake_source(tmp_path / "repo")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "other"], check=True)
    result = run("--dry-run", "--source", str(repo), "--workdir", str(tmp_path / "w"))
    assert result.returncode == 1
    assert f"does not hold commit {CHAN_QUECTEL_COMMIT}" in result.stderr
    assert not (tmp_path / "w").exists()


def test_root_plans_the_build_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "sh").write_text("")                   # a root in shape only
    (root / "bin" / "sh").chmod(0o755)
    (root / "etc" / "asterisk").mkdir(parents=True)
    (root / "etc" / "asterisk" / "asterisk.conf").write_text(
        "[directories]\nastmoddir => /opt/ast/modules\n")
    src = fake_source(tmp_path / "src")
    result = run("--dry-run", "--root", str(root), "--source", str(src))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    tree = "/var/tmp/chan-quectel/src-" + CHAN_QUECTEL_COMMIT[:12]
    assert f"+ chroot {root} cmake -S {tree} " in out
    assert f"+ chroot {root} patch -d {tree} -p1" in out
    assert f"{root}/opt/ast/modules/chan_quectel.so" in out.split("+ install", 1)[1]
    assert f"cmake in {root} (apt-get install cmake)" in out      # checked in the root
    assert not (root / "var").exists()


def test_root_that_is_not_a_system_is_refused(tmp_path: Path) -> None:
    result = run("--dry-run", "--root", str(tmp_path))
    assert result.returncode == 1 and "not a system root" in result.stderr
