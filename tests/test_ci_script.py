"""The CI entry point (.ci/run): it installs every system tool the suite needs, and its quick
path (nothing to install) recognises all of them once they are there."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CI_RUN = REPO_ROOT / ".ci" / "run"


def system_packages() -> list[str]:
    match = re.search(r"^SYSTEM_PACKAGES=\(([^)]*)\)", CI_RUN.read_text(encoding="utf-8"), re.M)
    assert match, ".ci/run declares no SYSTEM_PACKAGES"
    return match.group(1).split()


def test_ci_installs_the_browser_postgres_and_the_reports_font():
    assert system_packages() == ["chromium", "chromium-driver", "postgresql", "fonts-liberation2"]


def test_the_readme_names_every_package_ci_installs():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for package in system_packages():
        assert f"`{package}`" in readme, package


def test_ci_needs_no_npm():
    # axe-core is vendored (tests/vendor/axe-core); a bare Debian 12 has no Node.js.
    assert "npm" not in CI_RUN.read_text(encoding="utf-8")


def test_the_quick_path_sees_every_installed_tool():
    # Run where .ci/run has installed its packages (CI does, before the suite): the check that
    # skips apt must then answer yes, or every CI run would apt-get again.
    script = CI_RUN.read_text(encoding="utf-8")
    check = re.search(r"^have_system_tools\(\) \{.*?^\}", script, re.M | re.S).group(0)
    result = subprocess.run(["bash", "-c", f"{check}\nhave_system_tools"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_ci_fails_when_pytest_collects_nothing():
    script = CI_RUN.read_text(encoding="utf-8")
    assert 'if [ "$status" -eq 5 ]; then' in script and "exit 1" in script.split('-eq 5 ]; then')[1]
