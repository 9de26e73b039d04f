"""GUI applications of the CVMFS stand-in's software stacks (services/cvmfs-stub): the
repository's own declarations install into a view as the contract says, every malformed
declaration stops the build with a message naming it, the catalog lists what a view ships
(and the hub still reads it), and the programs answer bad arguments before their slow imports.

install-applications and make-catalog run for real, as scripts and as imported modules, on
temporary views; no Docker, no view's Python."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from miniswan_hub import stacks

STUB = Path(__file__).resolve().parent.parent / "services" / "cvmfs-stub"
APPS = STUB / "apps"
PLATFORM = "x86_64-el9-gcc13-opt"
SHIPPED = {
    "LCG_104": [],
    "LCG_105": ["plot-browser"],
    "LCG_106": ["detector-viewer", "plot-browser"],
}


def load_script(name: str) -> ModuleType:
    """One of the stub's bin/ scripts (no .py suffix) as a module."""
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), str(STUB / "bin" / name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


installer = load_script("install-applications")
catalog_maker = load_script("make-catalog")


def make_view(root: Path, release: str) -> Path:
    """A view folder as build-view leaves it before the applications: a venv's bin/python3."""
    view = root / "cvmfs" / "lcg" / "views" / release / PLATFORM
    (view / "bin").mkdir(parents=True)
    (view / "bin" / "python3").write_text("#!/bin/sh\n")
    (view / "share" / "jupyter").mkdir(parents=True)
    return view


def run_installer(source: Path, apps: Path, view: Path) -> subprocess.CompletedProcess[str]:
    """The script as build-view runs it: exit status and messages."""
    script = STUB / "bin" / "install-applications"
    argv = [sys.executable, str(script), str(source), str(apps), str(view)]
    return subprocess.run(argv, capture_output=True, text=True, check=False)


# --- The repository's releases and applications


@pytest.mark.parametrize("release", sorted(SHIPPED))
def test_each_release_installs_its_applications_as_the_contract_says(
    tmp_path: Path, release: str
) -> None:
    view = make_view(tmp_path, release)
    result = run_installer(STUB / "views" / release, APPS, view)
    assert result.returncode == 0, result.stderr
    installed = json.loads((view / "share/swan/applications.json").read_text())
    assert list(installed) == ["applications"]
    assert [app["id"] for app in installed["applications"]] == SHIPPED[release]
    for app in installed["applications"]:
        assert list(app) == ["id", "name", "description", "command", "icon", "gl"]
        for path in [*app["command"], app["icon"]]:
            assert path.startswith(f"{view}/") and Path(path).is_file()
        assert os.access(app["command"][0], os.X_OK)
        # Python programs run on the view's own interpreter, whatever comes first on PATH.
        shebang = Path(app["command"][0]).read_text().splitlines()[0]
        assert shebang == f"#!{view}/bin/python3"
    assert (view / "bin" / "python3").read_text() == "#!/bin/sh\n"  # the venv's, untouched


def test_lcg_106_ships_the_gl_detector_viewer_with_its_geometry(tmp_path: Path) -> None:
    view = make_view(tmp_path, "LCG_106")
    assert run_installer(STUB / "views" / "LCG_106", APPS, view).returncode == 0
    installed = json.loads((view / "share/swan/applications.json").read_text())
    apps = {app["id"]: app for app in installed["applications"]}
    assert apps["detector-viewer"]["command"] == [
        f"{view}/bin/detector-viewer",
        f"{view}/share/geometry/detector.gdml",
    ]
    assert apps["detector-viewer"]["icon"] == f"{view}/share/swan/icons/detector-viewer.svg"
    assert (apps["detector-viewer"]["gl"], apps["plot-browser"]["gl"]) == (True, False)


# --- Refused declarations: the build stops and says why


def write_release(root: Path, applications: object, files: dict[str, str] | None = None) -> Path:
    source = root / "views" / "LCG_999"
    source.mkdir(parents=True)
    (source / "applications.json").write_text(json.dumps({"applications": applications}))
    for relative, text in (files or {}).items():
        path = source / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if relative.startswith("bin/"):
            path.chmod(0o755)
    return source


ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M2 2h20"/></svg>'
TOOL = {"bin/tool": "#!/bin/sh\n", "share/swan/icons/tool.svg": ICON}


def declaration(**changes: object) -> dict[str, object]:
    app: dict[str, object] = {
        "id": "tool",
        "name": "Tool",
        "description": "A tool of the release's own.",
        "command": ["{view}/bin/tool"],
        "icon": "{view}/share/swan/icons/tool.svg",
        "gl": False,
    }
    app.update(changes)
    return app


def test_a_release_may_declare_an_application_of_its_own(tmp_path: Path) -> None:
    view = make_view(tmp_path, "LCG_999")
    source = write_release(tmp_path, ["plot-browser", declaration()], TOOL)
    assert installer.install(source, APPS, view)[1]["command"] == [f"{view}/bin/tool"]


@pytest.mark.parametrize(
    ("applications", "files", "message"),
    [
        ([declaration()], {}, "command file {view}/bin/tool is missing from the view"),
        ([declaration()], {"bin/tool": "x"}, "icon {view}/share/swan/icons/tool.svg is missing"),
        ([declaration(id="Tool")], TOOL, "id 'Tool' does not match"),
        ([declaration(id="t" * 33)], TOOL, "does not match ^[a-z][a-z0-9-]{0,31}$"),
        ([declaration(id="tool\n")], TOOL, "does not match"),
        ([declaration(), declaration()], TOOL, "declared more than once: tool"),
        (["plot-browser", "plot-browser"], {}, "declared more than once: plot-browser"),
        (["no-such-app"], {}, "no shared application 'no-such-app'"),
        ([declaration(gl="yes")], TOOL, "gl must be true or false"),
        ([declaration(command=[])], TOOL, "command must be a non-empty list"),
        ([declaration(command=["/usr/bin/xterm"])], TOOL, "must be a path in the view"),
        ([declaration(command=["{view}/bin/../bin/tool"])], TOOL, "is not a plain path"),
        ([declaration(name="")], TOOL, "name must be a non-empty line of text"),
        ([declaration(colour="red")], TOOL, "unknown ['colour']"),
        ([{"id": "tool"}], TOOL, "missing fields ['command', 'description', 'gl', 'icon'"),
        (
            [declaration()],
            {**TOOL, "bin/python3": "#!/bin/sh\n"},
            "would replace {view}/bin/python3",
        ),
    ],
)
def test_a_broken_declaration_fails_the_build_saying_what(
    tmp_path: Path, applications: object, files: dict[str, str], message: str
) -> None:
    view = make_view(tmp_path, "LCG_999")
    source = write_release(tmp_path, applications, files)
    result = run_installer(source, APPS, view)
    assert result.returncode == 1
    assert "invalid applications" in result.stderr
    assert message.replace("{view}", str(view)) in result.stderr
    assert not (view / "share/swan/applications.json").exists()


def test_a_command_must_be_executable(tmp_path: Path) -> None:
    view = make_view(tmp_path, "LCG_999")
    source = write_release(
        tmp_path, [declaration(command=["{view}/share/swan/icons/tool.svg"])], TOOL
    )
    result = run_installer(source, APPS, view)
    assert result.returncode == 1
    assert f"command {view}/share/swan/icons/tool.svg is not executable" in result.stderr


@pytest.mark.parametrize(
    ("icon", "message"),
    [
        (ICON.replace("0 0 24 24", "0 0 48 48"), 'must have viewBox="0 0 24 24"'),
        (ICON.replace("<path", "<script>alert(1)</script><path"), "must not contain <script>"),
        (ICON.replace("<path", '<path onclick="x()"'), "must not have event handlers"),
        (ICON.replace("<path", '<image href="http://example.org/a.png"/><path'), "must not link"),
        (ICON.replace("<path", "<path x"), "not well-formed XML"),
        (ICON.replace('d="M2 2h20"', 'd="M2 2h20' + " " * 5000 + '"'), "more than 4096"),
        ("<html/>", "the root element must be an SVG <svg> element"),
    ],
)
def test_an_unsafe_or_unfit_icon_fails_the_build(tmp_path: Path, icon: str, message: str) -> None:
    view = make_view(tmp_path, "LCG_999")
    source = write_release(tmp_path, [declaration()], {**TOOL, "share/swan/icons/tool.svg": icon})
    result = run_installer(source, APPS, view)
    assert result.returncode == 1 and message in result.stderr, result.stderr


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    view = make_view(tmp_path, "LCG_999")
    source = write_release(tmp_path, [declaration(gl=1), declaration(id="other", name=" ")], TOOL)
    result = run_installer(source, APPS, view)
    assert "'tool': gl must be" in result.stderr and "'other': name must" in result.stderr


# --- The catalog


def fake_built_view(root: Path, release: str, applications: list[str] | None) -> Path:
    """A built view for make-catalog: setup.sh, a python3 that answers the version query,
    and, unless None, the applications installed from the repository's shared ones."""
    view = root / "lcg" / "views" / release / PLATFORM
    (view / "bin").mkdir(parents=True)
    (view / "setup.sh").write_text(f"export SWAN_STACK={release}\n")
    python = view / "bin" / "python3"
    python.write_text('#!/bin/sh\necho \'{"numpy": "2.4.6", "matplotlib": "3.11.2"}\'\n')
    python.chmod(0o755)
    if applications is not None:
        source = root / "sources" / release
        source.mkdir(parents=True)
        (source / "applications.json").write_text(json.dumps({"applications": applications}))
        installer.install(source, APPS, view)
    return view


def test_the_catalog_lists_each_views_applications_and_the_hub_reads_it(tmp_path: Path) -> None:
    repo = tmp_path / "sft.cern.ch"
    fake_built_view(repo, "LCG_104", None)  # built before applications existed: no file
    fake_built_view(repo, "LCG_105", [])
    fake_built_view(repo, "LCG_106", ["detector-viewer", "plot-browser"])
    catalog_maker.main(repo, "LCG_105")
    catalog = json.loads((repo / "lcg" / "views" / "catalog.json").read_text())
    listed = {
        release: entry["platforms"][PLATFORM]["applications"]
        for release, entry in catalog["releases"].items()
    }
    assert listed["LCG_104"] == [] and listed["LCG_105"] == []
    assert listed["LCG_106"] == [
        {
            "id": "detector-viewer",
            "name": "Detector geometry",
            "description": listed["LCG_106"][0]["description"],
            "gl": True,
        },
        {
            "id": "plot-browser",
            "name": "Plot browser",
            "description": listed["LCG_106"][1]["description"],
            "gl": False,
        },
    ]
    # The hub reads platforms leniently: the extra key changes nothing it shows.
    parsed = stacks.parse_catalog(catalog)
    assert parsed.default_release == "LCG_105"
    assert parsed.releases["LCG_106"].platforms[PLATFORM].packages["numpy"] == "2.4.6"


# --- The programs: wrong arguments answered before pyg4ometry or matplotlib is imported


def run_app(
    app: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    program = APPS / app / "bin" / app
    return subprocess.run(
        [sys.executable, str(program), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
        env={"PATH": os.environ["PATH"], "DISPLAY": ":999", **(env or {})},
    )


def test_detector_viewer_refuses_a_missing_file_with_exit_status_2(tmp_path: Path) -> None:
    result = run_app("detector-viewer", str(tmp_path / "nowhere.gdml"))
    assert result.returncode == 2
    assert f"detector-viewer: {tmp_path / 'nowhere.gdml'}: no such file" in result.stderr


def test_detector_viewer_needs_a_display_and_says_so() -> None:
    gdml = APPS / "detector-viewer" / "share" / "geometry" / "detector.gdml"
    result = run_app("detector-viewer", str(gdml), env={"DISPLAY": ""})
    assert result.returncode == 1 and "no X display" in result.stderr


def test_plot_browser_checks_its_arguments_and_the_display() -> None:
    assert run_app("plot-browser", "--plot", "9").returncode == 2
    result = run_app("plot-browser", env={"DISPLAY": ""})
    assert result.returncode == 1 and "no X display" in result.stderr
    assert "q quits" in run_app("plot-browser", "--help").stdout


def test_the_shipped_geometry_is_gdml_with_a_world_and_nist_materials() -> None:
    import xml.etree.ElementTree as ElementTree

    gdml = APPS / "detector-viewer" / "share" / "geometry" / "detector.gdml"
    root = ElementTree.parse(gdml).getroot()
    world = root.find("setup/world")
    assert world is not None and world.get("ref") == "World"
    materials = {ref.get("ref") for ref in root.iter("materialref")}
    assert len(materials) >= 6 and all(str(m).startswith("G4_") for m in materials)
