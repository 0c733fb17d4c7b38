"""Imports point downward only (architecture §1): a module never imports a module of a higher layer."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import cgformat

ROOT = Path(cgformat.__file__).parent

LAYERS = {
    "cgformat.errors": 0, "cgformat.model": 0, "cgformat.limits": 0, "cgformat.manifest": 0,
    "cgformat._atomic": 0, "cgformat._prefetch": 0, "cgformat._interrupt": 0, "cgformat._mojibake": 0,
    "cgformat._naming": 0,
    "cgformat._labels": 4,
    "cgformat.schema": 1, "cgformat._schemas": 1,
    "cgformat.normalize": 2, "cgformat.checks": 2, "cgformat.validation": 2,
    "cgformat.report": 2, "cgformat.report_html": 2, "cgformat._report_assets": 0,
    "cgformat.formats": 3,
    "cgformat.files": 4, "cgformat.uploader": 4, "cgformat.sandbox": 4,
    "cgformat.jobs": 5, "cgformat.settings": 5,
    "cgformat.cli": 6, "cgformat.__main__": 6, "cgformat": 7,
}
# a single file sent as it is is read to count and check its records: the one uploader module that may load
# the data layer (lazily), never polars itself
SINGLE_FILE = "cgformat.uploader.target"
SINGLE_FILE_MAY_USE = {"cgformat.files", "cgformat.validation", "cgformat.schema"}


def layer_of(module: str) -> int:
    best = None
    for prefix, layer in LAYERS.items():
        if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, layer)
    assert best is not None, f"module {module} has no layer: add it to LAYERS in {__file__}"
    return best[1]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if node.level and not node.module:
                found.update(f"{target}.{a.name}" for a in node.names)
            else:
                found.add(target)
    return found


def test_imports_point_downward() -> None:
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        module = module_name(path)
        mine = layer_of(module)
        for target in imports_of(path, module):
            if not target.startswith("cgformat"):
                continue
            if target == module or module.startswith(target + ".") and path.name == "__init__.py":
                continue
            if target.startswith(module.rsplit(".", 1)[0] + ".") and layer_of(target) == mine:
                continue  # siblings inside one package
            if layer_of(target) > mine:
                bad.append(f"{module} (L{mine}) imports {target} (L{layer_of(target)})")
    assert not bad, "\n".join(bad)


def test_uploader_does_not_touch_the_data_layer() -> None:
    bad = []
    for path in sorted((ROOT / "uploader").rglob("*.py")):
        module = module_name(path)
        for target in imports_of(path, module):
            heavy = target == "polars" or target.startswith(("polars.", "cgformat.formats", "cgformat.files",
                                                             "cgformat.jobs",
                                                             "cgformat.validation", "cgformat.schema"))
            if heavy and not (module == SINGLE_FILE and target in SINGLE_FILE_MAY_USE):
                bad.append(f"{module} imports {target}")
    assert not bad, "\n".join(bad)


def test_the_uploader_never_loads_the_sandbox() -> None:
    bad = [f"{module_name(path)} imports {target}" for path in sorted((ROOT / "uploader").rglob("*.py"))
           for target in imports_of(path, module_name(path))
           if target == "cgformat.sandbox" or target.startswith("cgformat.sandbox.")]
    assert not bad, "\n".join(bad)
    # and at run time: importing the uploader, and every module of it, leaves the sandbox unloaded
    modules = sorted(module_name(path) for path in (ROOT / "uploader").rglob("*.py"))
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            "print(sorted(n for n in sys.modules if n.startswith('cgformat.sandbox')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=ROOT.parent, env={**os.environ, "PYTHONPATH": str(ROOT.parent)}).stdout.strip()
    assert loaded == "[]"


def test_no_polars_in_the_command_line_of_the_uploader() -> None:
    # the upload, status and sandbox commands parse, call and render: their domain logic is in upload/ and sandbox/
    bad = [f"{module_name(path)} imports {target}" for name in ("upload", "status", "sandbox", "_upload_common",
                                                                 "_upload_render")
           for path in [ROOT / "cli" / f"{name}.py"]
           for target in imports_of(path, module_name(path)) if target.split(".")[0] == "polars"]
    assert not bad, "\n".join(bad)


def test_only_the_cli_imports_click_or_rich() -> None:
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        module = module_name(path)
        if module.startswith("cgformat.cli"):
            continue
        for target in imports_of(path, module):
            if target.split(".")[0] in {"click", "rich"}:
                bad.append(f"{module} imports {target}")
    assert not bad, "\n".join(bad)
