"""The package installs as a wheel: queries, reference data and assets travel inside it."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_wheel_carries_every_query_reference_file_and_asset(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", str(REPO), "-w", str(tmp_path)], check=True, cwd=tmp_path)
    (wheel,) = tmp_path.glob("perinatal_pathway-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = ([f"pathway/_bundled/queries/{p.name}" for p in (REPO / "queries").glob("*.sql")]
                + [f"pathway/_bundled/reference/{p.name}" for p in (REPO / "data/reference").glob("*.csv")]
                + [f"pathway/_bundled/assets/{p.name}" for p in (REPO / "assets").iterdir() if p.is_file()]
                + [f"pathway/_bundled/boundaries/{p.name}" for p in (REPO / "data/boundaries").glob("*.geojson")])
    assert len(expected) > 30
    assert [name for name in expected if name not in names] == []
    assert "pathway/cli.py" in names and "pathway/web/pages/overview.py" in names


def test_statsmodels_is_only_a_test_dependency():
    root = REPO
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = lambda requirements: {re.split(r"[<>=\[ ]", r, maxsplit=1)[0].lower() for r in requirements}
    assert "statsmodels" not in names(project["dependencies"])
    assert "statsmodels" in names(project["optional-dependencies"]["test"])
    importing = [str(p.relative_to(root)) for p in (root / "pathway").rglob("*.py")
                 if re.search(r"^\s*(import|from)\s+statsmodels", p.read_text(encoding="utf-8"), re.M)]
    assert importing == []
