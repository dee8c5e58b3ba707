"""Dependencies point one way: ui -> studio -> catalogue -> editing/models; models never reach up."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ganstudio"


def _imports(path: Path) -> set[str]:
    """Absolute module names imported by a file (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module.removesuffix(".__init__")
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def _files(sub: str = ""):
    return sorted((PACKAGE / sub).rglob("*.py"))


def _reaching(files, modules: tuple[str, ...]) -> list[tuple[str, str]]:
    """(file, import) for each import of one of `modules` (or anything inside them) by `files`."""
    return [
        (str(p.relative_to(PACKAGE)), m) for p in files
        for m in _imports(p) if any(m == module or m.startswith(f"{module}.") for module in modules)
    ]


def test_only_ui_imports_gradio():
    offenders = [
        str(p.relative_to(PACKAGE)) for p in _files()
        if "ui" not in p.relative_to(PACKAGE).parts[:1]
        and any(m == "gradio" or m.startswith("gradio.") for m in _imports(p))
    ]
    assert offenders == []


def test_models_do_not_import_studio_ui_or_training():
    banned = ("ganstudio.studio", "ganstudio.ui", "ganstudio.training", "ganstudio.cli", "ganstudio.editing")
    offenders = [
        (str(p.relative_to(PACKAGE)), m) for p in _files("models") for m in _imports(p) if m.startswith(banned)
    ]
    assert offenders == []


def test_studio_never_imports_training_or_ui():
    layer = [PACKAGE / "studio.py", PACKAGE / "catalogue.py", *_files("editing")]
    offenders = [
        (str(p.relative_to(PACKAGE)), m) for p in layer if p.exists()
        for m in _imports(p) if m.startswith(("ganstudio.training", "ganstudio.ui"))
    ]
    assert offenders == []


def test_the_catalogue_sits_below_the_studio():
    """The catalogue finds and loads models; the operations built on it are never reached from it."""
    assert _reaching([PACKAGE / "catalogue.py"], ("ganstudio.studio", "ganstudio.inspection", "ganstudio.metrics",
                                                  "ganstudio.options", "ganstudio.cli")) == []


def test_what_only_looks_up_models_uses_the_catalogue_not_the_studio():
    """Measuring, translating and the commands that only look models up or load them need the
    catalogue, not the operations: importing the studio (or the inspector built on it) there
    is a layering mistake."""
    lookups = [*_files("metrics"), PACKAGE / "translate.py", PACKAGE / "options.py",
               *(PACKAGE / "cli" / f"{name}.py" for name in ("metrics", "models", "translate"))]
    assert _reaching(lookups, ("ganstudio.studio", "ganstudio.inspection")) == []


def test_only_the_entry_points_import_the_command_line():
    """The CLI is the top layer: it drives the launcher, training and metrics, never the other
    way round (CliError lives in errors.py, the options it shares with the UI in options.py)."""
    offenders = [
        (str(p.relative_to(PACKAGE)), m) for p in _files()
        if p.relative_to(PACKAGE).parts[0] not in ("cli", "__main__.py")
        for m in _imports(p) if m == "ganstudio.cli" or m.startswith("ganstudio.cli.")
    ]
    assert offenders == []


@pytest.mark.slow
def test_importing_the_app_module_launches_nothing():
    import subprocess
    import sys

    code = "import ganstudio.ui.app, launch, sys; print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=PACKAGE.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"
    assert "Running on" not in out.stdout + out.stderr
