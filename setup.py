"""Build hook: a wheel carries the repository's data/ folder as ``churnlab/_data``.

The bundled data sets live in the top-level ``data/`` folder, each with its README. In a source
checkout (``pip install -e .``) the loaders read them there; a wheel has no such folder, so
``build_py`` copies every file under ``data/`` into the built package as ``churnlab/_data``,
where :mod:`churnlab.datasets.cdnow` looks first. A new data set needs no change here: the
whole folder is copied. All other metadata is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA = Path(__file__).resolve().parent / "data"
PACKAGED_DATA = Path("churnlab", "_data")


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install reads data/ in the checkout
        target = Path(self.build_lib) / PACKAGED_DATA
        shutil.rmtree(target, ignore_errors=True)  # a file deleted from data/ leaves the wheel
        for source in self._data_files():
            destination = target / source.relative_to(DATA)
            self.mkpath(str(destination.parent))
            self.copy_file(str(source), str(destination), preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if self.editable_mode:
            return outputs
        target = Path(self.build_lib) / PACKAGED_DATA
        return outputs + [str(target / f.relative_to(DATA)) for f in self._data_files()]

    @staticmethod
    def _data_files() -> list[Path]:
        if not DATA.is_dir():
            raise FileNotFoundError(
                f"{DATA} not found: the bundled data sets are part of the build"
            )
        return sorted(path for path in DATA.rglob("*") if path.is_file())


setup(cmdclass={"build_py": BuildPyWithData})
