"""Run a command against a throwaway PostgreSQL server.

    python -m maeul.testing.postgres_server -- pytest -q

Uses the server named by MAEUL_TEST_DATABASE_URL when set. Otherwise finds the PostgreSQL binaries
(Debian keeps them off PATH, under `pg_config --bindir`), installs the Debian package only when they are
missing, initialises a cluster in a temporary directory and starts it on a free loopback port — as the
`postgres` user when running as root, since PostgreSQL refuses to run as root — then stops and deletes it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _bindir() -> Path | None:
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and Path(candidate, "initdb").exists() and Path(candidate, "pg_ctl").exists():
            return Path(candidate)
    return None


def _install() -> None:
    if os.geteuid() != 0:
        raise SystemExit("PostgreSQL binaries are missing; install the Debian package `postgresql` (needs root).")
    print("Installing PostgreSQL (Debian package postgresql)…", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
        check=True,
        env=env,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@contextlib.contextmanager
def throwaway_server() -> Iterator[str]:
    """Yield a DATABASE_URL for a fresh server; stop and delete it afterwards."""
    bindir = _bindir()
    if bindir is None:
        _install()
        bindir = _bindir()
        if bindir is None:
            raise SystemExit("PostgreSQL was installed but initdb/pg_ctl were not found")
    data = Path(tempfile.mkdtemp(prefix="maeul-pg-"))
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(data, pw.pw_uid, pw.pw_gid)
    port = _free_port()
    subprocess.run(
        _as_postgres(
            [str(bindir / "initdb"), "-D", str(data / "db"), "-U", "maeul", "-A", "trust", "-E", "UTF8", "--no-locale"]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = (
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=100"
    )
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data / "db"),
                "-o",
                options,
                "-l",
                str(data / "server.log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield f"postgres://maeul@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    argv = sys.argv[1:]
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise SystemExit(__doc__)
    given = os.environ.get("MAEUL_TEST_DATABASE_URL")
    if given:
        raise SystemExit(subprocess.run(argv, env={**os.environ, "DATABASE_URL": given}, check=False).returncode)
    with throwaway_server() as url:
        print(f"Throwaway PostgreSQL at {url}", file=sys.stderr)
        code = subprocess.run(argv, env={**os.environ, "DATABASE_URL": url}, check=False).returncode
    raise SystemExit(code)


if __name__ == "__main__":
    main()
