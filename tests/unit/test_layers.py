"""Imports point downward only (architecture §1): a module never imports a module of a higher layer."""

from __future__ import annotations

import ast
from pathlib import Path

import cgformat

ROOT = Path(cgformat.__file__).parent

LAYERS = {
    "cgformat.errors": 0, "cgformat.model": 0, "cgformat.limits": 0, "cgformat.manifest": 0,
    "cgformat._atomic": 0, "cgformat._prefetch": 0, "cgformat._interrupt": 0, "cgformat._mojibake": 0,
    "cgformat._labels": 4,
    "cgformat.schema": 1, "cgformat._schemas": 1,
    "cgformat.normalize": 2, "cgformat.checks": 2, "cgformat.validation": 2, "cgformat.plan": 2,
    "cgformat.report": 2, "cgformat.report_html": 2,
    "cgformat.formats": 3,
    "cgformat.api": 4, "cgformat._splitting": 4, "cgformat.upload": 4,
    "cgformat.cli": 5, "cgformat.__main__": 5, "cgformat": 6,
}
# the sandbox rehearses CG, which validates what it receives: it may use the library (api, validate ...)
SANDBOX_MAY_USE = {"cgformat.api", "cgformat.validation", "cgformat.schema", "cgformat.report",
                   "cgformat.formats", "polars"}


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
    for path in sorted((ROOT / "upload").rglob("*.py")):
        module = module_name(path)
        for target in imports_of(path, module):
            heavy = target == "polars" or target.startswith(("polars.", "cgformat.formats", "cgformat.api",
                                                             "cgformat.validation", "cgformat.schema"))
            sandbox = path.name in ("sandbox.py", "_sandbox_checks.py")
            if heavy and not (sandbox and any(target.startswith(x) for x in SANDBOX_MAY_USE)):
                bad.append(f"{module} imports {target}")
    assert not bad, "\n".join(bad)


def test_the_uploader_never_loads_the_sandbox() -> None:
    bad = [f"{module_name(path)} imports {target}" for path in sorted((ROOT / "upload").rglob("*.py"))
           if path.name not in ("sandbox.py", "_sandbox_checks.py", "__init__.py")
           for target in imports_of(path, module_name(path)) if "sandbox" in target]
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
