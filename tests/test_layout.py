"""The shape of the package, checked so it cannot drift: the pipeline readable from the folder listing,
small modules, and dependencies declared exactly as the code uses them."""
from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import distributions, packages_distributions
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dubber"
STAGES = ("media", "speech", "translate", "backends", "subtitles", "dub", "jobs", "emulator")
MAX_LINES = 400  # a module past this is split along a stage boundary (STYLE.md)
MAX_TOP_LEVEL = 12


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_stage_is_a_package_and_the_top_level_stays_small():
    for stage in STAGES:
        assert (PACKAGE / stage / "__init__.py").is_file(), f"dubber/{stage}/ is not a package"
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, top
    assert not [name for name in top if name.startswith("emulator")], "the emulator is one package"


def test_no_module_is_too_long():
    long = {str(p.relative_to(ROOT)): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long


def test_tests_mirror_the_stage_packages():
    for stage in STAGES:
        assert list((ROOT / "tests" / stage).glob("test_*.py")), f"no tests/{stage}/"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> tuple[set[str], set[str]]:
    """(required distributions, distributions of the optional extras other than the test tools)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    name = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
    required = {_normalise(name.match(d).group(1)) for d in project["dependencies"]}
    extras = {_normalise(name.match(d).group(1)) for extra, deps in project["optional-dependencies"].items()
              if extra != "test" for d in deps}
    return required, extras


def _third_party_imports() -> set[str]:
    found = set()
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m != "dubber" and m not in sys.stdlib_module_names and m != "__future__"}


def test_every_declared_dependency_is_imported_and_every_import_is_declared():
    required, extras = _declared()
    dists_of = {module: {_normalise(d) for d in dists} for module, dists in packages_distributions().items()}
    # a lone extension module with an empty top_level.txt (praat-parselmouth's) is known by its files only
    for dist in distributions():
        for file in dist.files or ():
            if len(file.parts) == 1 and file.suffix in (".so", ".pyd") and "." in file.stem:
                dists_of.setdefault(file.name.split(".")[0], set()).add(_normalise(dist.metadata["Name"]))
    imported = _third_party_imports()
    provided = {dist for module in imported for dist in dists_of.get(module, set())}
    assert not required - provided, f"declared but never imported in dubber/: {sorted(required - provided)}"
    undeclared = {m for m in imported if not dists_of.get(m, set()) & (required | extras)}
    assert not undeclared, f"imported in dubber/ but not declared: {sorted(undeclared)}"
