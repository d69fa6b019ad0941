"""pyproject.toml declares what the code needs: every package it imports, and every package its readers load that
a declared dependency asks for only through an extra (an older pip, 23.x, leaves those out when the package is
already installed: trafilatura then read no web page at all, for want of lxml_html_clean)."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import json
import re
import subprocess
import sys
import tomllib

from packaging.requirements import Requirement

from .conftest import PROJECT
from .support.documents import make_docx, report_pdf

FIRST_PARTY = {"retrieval", "bot", "tests"}
# In a fresh interpreter where the modules named in argv[1] cannot be imported (as if never installed), read one
# file of each format from the folder argv[2] as a build does.
READ_WITHOUT = """
import importlib.abc, json, sys
from pathlib import Path
blocked = set(json.loads(sys.argv[1]))
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
sys.meta_path.insert(0, NotInstalled())
from retrieval.ingest.formats import read_any
for file in sorted(Path(sys.argv[2]).iterdir()):
    assert read_any(file, file.stem).blocks, file
print("read", len(list(Path(sys.argv[2]).iterdir())))
"""


def name(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def declared(extras: bool = True) -> set[str]:
    """The distributions pyproject.toml asks for: its dependencies, and with `extras` its optional ones too."""
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra
                                        if extras]
    return {name(Requirement(r).name) for r in wanted}


def distributions_of(modules: set[str]) -> dict[str, set[str]]:
    """Each third-party module with the installed distributions that provide it."""
    provided = metadata.packages_distributions()
    return {m: {name(d) for d in provided.get(m, [])} for m in modules
            if m not in sys.stdlib_module_names and m not in FIRST_PARTY and not m.startswith("_")}


def closure_without_extras(roots: set[str]) -> set[str]:
    """The distributions installed for `roots` by a pip that honours no extra a dependency asks for."""
    seen, todo = set(), list(roots)
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            requires = metadata.requires(current) or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(name(requirement.name))
    return seen


def test_every_package_the_code_imports_is_declared():
    imported = set()
    for path in [*PROJECT.glob("retrieval/**/*.py"), *PROJECT.glob("bot/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    undeclared = {m: dists for m, dists in distributions_of(imported).items() if not dists & declared()}
    assert undeclared == {}


def test_every_format_reads_with_only_what_a_pip_honouring_no_extras_installs(tmp_path):
    installed = closure_without_extras(declared(extras=False))
    left_out = {module for module, dists in distributions_of(set(metadata.packages_distributions())).items()
                if dists and not dists & installed}
    (tmp_path / "a.html").write_text(f"<html><head><title>T</title></head><body><article><p>{'A sentence. ' * 30}"
                                     "</p></article></body></html>")
    (tmp_path / "a.md").write_text("# T\n\nA paragraph.\n")
    make_docx(tmp_path / "a.docx")
    report_pdf(tmp_path / "a.pdf")
    done = subprocess.run([sys.executable, "-c", READ_WITHOUT, json.dumps(sorted(left_out)), str(tmp_path)],
                          capture_output=True, text=True, cwd=PROJECT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["read", "4"]
