"""Build hook: ship the top-level queries/, assets/ and data/reference/ inside the wheel.

The repository keeps them at the top level (where analysts look for them); an installed
package finds them as pathway/_bundled/... through pathway.resources.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUNDLED = {"queries": "queries", "assets": "assets", "data/reference": "reference",
           "data/boundaries": "boundaries"}


class BuildWithBundledData(build_py):
    def run(self):
        super().run()
        root = Path(__file__).parent
        target = Path(self.build_lib) / "pathway" / "_bundled"
        for source, name in BUNDLED.items():
            if (root / source).is_dir():
                shutil.copytree(root / source, target / name, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithBundledData})
