from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env={"IPX_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_participants_create_prints_a_key_and_audit_verify_checks_the_chain(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"

    migrated = _cli(url, "migrate")
    created = _cli(url, "participants", "create", "--name", "Bank of Ningbo", "--roles", "bank,bidder")
    listed = _cli(url, "participants", "list")
    verified = _cli(url, "audit", "verify")

    assert migrated.returncode == 0, migrated.stderr
    assert created.returncode == 0, created.stderr
    assert "participant 1 'Bank of Ningbo' roles=bank,bidder" in created.stdout
    key_line = created.stdout.strip().splitlines()[-1]
    assert key_line.startswith("api key (shown once, store it now): ipx_")
    assert "Bank of Ningbo" in listed.stdout
    assert "1 participant(s)" in listed.stdout
    assert verified.returncode == 0
    assert verified.stdout.strip().splitlines() == [
        "sealed 1 event(s) committed since the last scheduler tick",
        "audit chain ok: 1 events verified",
    ]

    with sqlite3.connect(tmp_path / "cli.db") as connection:
        connection.execute(
            "UPDATE audit_events SET type = 'forged' WHERE id = (SELECT event_id FROM audit_seals WHERE seq = 1)"
        )
    broken = _cli(url, "audit", "verify")

    assert broken.returncode == 1
    assert "audit chain BROKEN at event 1: content does not match its hash" in broken.stdout


def test_participants_create_refuses_an_unknown_role(tmp_path: Path) -> None:
    result = _cli(
        f"sqlite:///{tmp_path}/cli.db", "participants", "create", "--name", "X", "--roles", "emperor"
    )

    assert result.returncode == 2
    assert "unknown role emperor" in result.stderr
