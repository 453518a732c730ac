"""A throwaway PostgreSQL cluster for the test suite and the benchmarks, never for real data.

initdb in a temporary folder, run as Debian's unprivileged `postgres` user when we are root
(PostgreSQL refuses to run as root), on a free loopback port, fsync off because the data is
thrown away; stopped and deleted after.

    with ThrowawayPostgres(find_bin_dir(), settings=TEAM_SERVER) as base_url:
        ...   # postgresql+psycopg://postgres@127.0.0.1:PORT (add /DATABASE)
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from glob import glob
from pathlib import Path

INSTALL_HINT = ("install PostgreSQL: apt-get install -y postgresql "
                "(or set PATHWAY_TEST_PG_BIN to the folder holding initdb and pg_ctl)")

# Never wait on the disk for data that is thrown away.
THROWAWAY = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
# A small team server with a few GB of memory to spare (the benchmarks'), not the tiny defaults.
TEAM_SERVER = ("-c shared_buffers=1GB -c work_mem=64MB -c maintenance_work_mem=512MB "
               "-c effective_cache_size=4GB")


class PostgresSetupError(RuntimeError):
    """initdb or pg_ctl failed; the message carries their output and the server log."""


def find_bin_dir() -> Path | None:
    """The folder with initdb and pg_ctl: PATHWAY_TEST_PG_BIN, else the newest Debian install
    (/usr/lib/postgresql/N/bin), else PATH; None when there is none."""
    configured = os.environ.get("PATHWAY_TEST_PG_BIN")
    if configured:
        folder = Path(configured)
        return folder if (folder / "initdb").exists() and (folder / "pg_ctl").exists() else None

    def major_version(folder: str) -> int:
        match = re.search(r"/postgresql/(\d+)/bin", folder)
        return int(match.group(1)) if match else 0

    for folder in sorted(glob("/usr/lib/postgresql/*/bin"), key=major_version, reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent
    return None


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ThrowawayPostgres:
    """One initdb'd cluster in a temporary folder (start() gives its base URL, stop() deletes it)."""

    def __init__(self, bin_dir: Path, *, settings: str = "", prefix: str = "pathway-pg-"):
        self.bin_dir = bin_dir
        self.settings = settings
        self.folder = Path(tempfile.mkdtemp(prefix=prefix))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = 0
        self.run_as: str | None = None
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.folder, ignore_errors=True)
                raise PostgresSetupError("running as root needs the `postgres` system user to run "
                                         f"a PostgreSQL server: {INSTALL_HINT}") from None
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self.run_as = "postgres"

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        argv = [str(self.bin_dir / command[0]), *command[1:]]
        if self.run_as:
            argv = ["runuser", "-u", self.run_as, "--", *argv]
        # cwd inside our folder: the unprivileged user may not be able to enter the caller's;
        # PG* variables of the caller would point pg_ctl elsewhere.
        environment = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
        return subprocess.run(argv, cwd=self.folder, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, env=environment)

    def _check(self, result: subprocess.CompletedProcess, step: str) -> None:
        if result.returncode != 0:
            server_log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise PostgresSetupError(f"throwaway PostgreSQL {step} failed (exit {result.returncode}) "
                                     f"in {self.folder}:\n{result.stdout}\n{result.stderr}\n{server_log}")

    def start(self) -> str:
        self._check(self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                              "-E", "UTF8", "--locale=C", "--no-sync"), "initdb")
        # A port taken between our probe and the server's bind is retried with a new one.
        for attempt in range(3):
            self.port = free_loopback_port()
            options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                       f"{THROWAWAY} {self.settings}")
            result = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log),
                               "-o", options, "-w", "-t", "60", "start")
            if result.returncode == 0:
                return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"
            if attempt == 2:
                self._check(result, "start")
        raise AssertionError("unreachable")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> str:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
