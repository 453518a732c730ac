"""A throwaway PostgreSQL cluster for benchmarks: initdb in a temporary folder, run as an
unprivileged user when we are root (Debian's `postgres`), on a free loopback port, tuned as a
small team server would be (not the test suite's tiny defaults). Stopped and deleted after.

    with ThrowawayPostgres() as url:     # postgresql+psycopg://postgres@127.0.0.1:PORT/postgres
        ...
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from glob import glob
from pathlib import Path

# A server with a few GB of memory to spare; fsync off because the data is thrown away.
SERVER_OPTIONS = ("-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                  "-c full_page_writes=off -c shared_buffers=1GB -c work_mem=64MB "
                  "-c maintenance_work_mem=512MB -c effective_cache_size=4GB")


def bin_dir() -> Path:
    """initdb and pg_ctl: PATHWAY_TEST_PG_BIN, else the newest /usr/lib/postgresql/N/bin, else PATH."""
    configured = os.environ.get("PATHWAY_TEST_PG_BIN")
    candidates = [configured] if configured else sorted(
        glob("/usr/lib/postgresql/*/bin"), key=lambda f: int(Path(f).parent.name), reverse=True)
    if not configured and shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb")).parent))
    for folder in candidates:
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    raise SystemExit("PostgreSQL not found: apt-get install -y postgresql, or set PATHWAY_TEST_PG_BIN "
                     "to the folder holding initdb and pg_ctl")


class ThrowawayPostgres:
    def __init__(self) -> None:
        self.bin = bin_dir()
        self.folder = Path(tempfile.mkdtemp(prefix="pathway-bench-pg-"))
        self.run_as = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self.run_as = "postgres"

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        argv = [str(self.bin / command[0]), *command[1:]]
        if self.run_as:
            argv = ["runuser", "-u", self.run_as, "--", *argv]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        result = subprocess.run(argv, cwd=self.folder, capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, env=environment)
        if result.returncode != 0:
            raise SystemExit(f"PostgreSQL {command[0]} failed in {self.folder}:\n{result.stdout}{result.stderr}")
        return result

    def __enter__(self) -> str:
        self._run("initdb", "-D", str(self.folder / "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "server.log"),
                  "-o", f"-p {port} -k {self.folder} {SERVER_OPTIONS}", "-w", "-t", "60", "start")
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def __exit__(self, *exc) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
