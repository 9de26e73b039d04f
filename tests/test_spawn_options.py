"""The spawn page's choices: what is accepted, what is refused and how the refusal reads."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from miniswan_hub import form, options, stacks

# A catalog as the cvmfs-stub publishes it (parsed by the real parser).
CATALOG = stacks.parse_catalog(
    {
        "views": "/cvmfs/sft.cern.ch/lcg/views",
        "default_release": "LCG_105",
        "releases": {
            "LCG_104": {
                "platforms": {
                    "x86_64-el9-gcc13-opt": {
                        "path": "/cvmfs/sft.cern.ch/lcg/views/LCG_104/x86_64-el9-gcc13-opt",
                        "packages": {"numpy": "1.24.4", "matplotlib": "3.7.5"},
                    }
                }
            },
            "LCG_105": {
                "platforms": {
                    "x86_64-el9-gcc13-opt": {
                        "path": "/cvmfs/sft.cern.ch/lcg/views/LCG_105/x86_64-el9-gcc13-opt",
                        "packages": {"numpy": "1.26.4", "matplotlib": "3.8.4"},
                        "applications": [
                            {"id": "plot-browser", "name": "Plot browser", "gl": False}
                        ],
                    },
                    "aarch64-el9-gcc13-opt": {
                        "path": "/cvmfs/sft.cern.ch/lcg/views/LCG_105/aarch64-el9-gcc13-opt",
                    },
                }
            },
        },
    }
)
CHOICES = options.Choices(CATALOG, options.Limits())


def check(user_options: dict[str, Any]) -> options.SpawnOptions:
    return options.validate(user_options, CHOICES)


def refusal(user_options: dict[str, Any]) -> str:
    with pytest.raises(options.OptionsError) as error:
        check(user_options)
    return str(error.value)


def test_empty_choices_mean_jupyterlab_with_the_catalogs_default_stack() -> None:
    for chosen in (check({}), check(options.from_form({}))):
        assert chosen.session == "jupyterlab"
        assert (chosen.stack, chosen.platform) == ("LCG_105", "x86_64-el9-gcc13-opt")
        assert (chosen.cores, chosen.memory, chosen.env_script) == (2, 2, "")


@pytest.mark.parametrize("session", sorted(options.SESSION_TYPES))
def test_every_offered_session_type_is_accepted(session: str) -> None:
    chosen = check(options.from_form({"session": [f" {session} "]}))
    assert chosen.session == session


def test_a_full_form_is_taken_as_chosen() -> None:
    chosen = check(
        options.from_form(
            {
                "stack": ["LCG_104"],
                "platform": ["x86_64-el9-gcc13-opt"],
                "cores": ["1"],
                "memory": ["4"],
                "env_script": ["~/scripts/env.sh"],
                "session": ["desktop"],
            }
        )
    )
    assert chosen == options.SpawnOptions(
        "desktop", "LCG_104", "x86_64-el9-gcc13-opt", 1, 4, "scripts/env.sh"
    )
    # What the form hands to start() validates again to the same choices.
    assert check(chosen.to_dict()) == chosen


def test_unknown_session_type_names_the_allowed_ones() -> None:
    message = refusal({"session": "vnc"})
    assert "'vnc'" in message
    for key in options.SESSION_TYPES:
        assert f"'{key}'" in message


def test_unknown_option_is_refused() -> None:
    assert "image" in refusal({"image": "evil/image"})


def test_unknown_release_names_the_available_ones() -> None:
    message = refusal({"stack": "LCG_99"})
    assert "Unknown software stack 'LCG_99'" in message
    assert "LCG_104" in message and "LCG_105" in message


def test_platform_must_be_built_for_the_release() -> None:
    message = refusal({"stack": "LCG_104", "platform": "aarch64-el9-gcc13-opt"})
    assert "'aarch64-el9-gcc13-opt' is not available for LCG_104" in message
    assert check({"stack": "LCG_105", "platform": "aarch64-el9-gcc13-opt"}).platform


def test_memory_above_the_maximum_is_refused_with_the_maximum() -> None:
    message = refusal({"memory": "64"})
    assert "Memory 64 GB is above the maximum of 4 GB" in message
    assert "1 GB, 2 GB, 4 GB" in message
    limited = options.Choices(CATALOG, options.Limits(max_memory_gb=2))
    with pytest.raises(options.OptionsError, match="above the maximum of 2 GB"):
        options.validate({"memory": 4}, limited)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("cores", "8", "CPU cores 8 is not offered: choose one of 1, 2"),
        ("cores", "two", "CPU cores 'two' is not a number"),
        ("cores", True, "is not a number"),
        ("memory", "3", "Memory 3 GB is not offered"),
        ("memory", "lots", "Memory 'lots' is not a number"),
    ],
)
def test_resources_outside_the_offer_are_refused(field: str, value: Any, expected: str) -> None:
    assert expected in refusal({field: value})


@pytest.mark.parametrize(
    "path", ["/etc/profile", "../other/env.sh", "scripts/../../x.sh", "~/../x.sh", "~root/x"]
)
def test_env_script_outside_the_home_is_refused(path: str) -> None:
    message = refusal({"env_script": path})
    assert repr(path) in message
    assert "outside your home" in message or "not a plain path" in message


@pytest.mark.parametrize("path", ["a;rm -rf ~", "$(id).sh", "x\n.sh", "a" * 300, 7])
def test_env_script_that_is_not_a_plain_path_is_refused(path: Any) -> None:
    assert "Environment script" in refusal({"env_script": path})


@pytest.mark.parametrize(
    ("path", "relative"),
    [("env.sh", "env.sh"), ("~/a/b.sh", "a/b.sh"), ("$HOME/a.sh", "a.sh"), ("./a/./b", "a/b")],
)
def test_env_script_is_kept_relative_to_the_home(path: str, relative: str) -> None:
    assert check({"env_script": path}).env_script == relative


class Inputs(HTMLParser):
    """The form's inputs and select options, as a browser would post them."""

    def __init__(self) -> None:
        super().__init__()
        self.radios: list[dict[str, str | None]] = []
        self.selects: dict[str, list[dict[str, str | None]]] = {}
        self._select: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            self.radios.append(dict(attrs))
        elif tag == "select":
            self._select = dict(attrs)["name"]
            self.selects[self._select or ""] = []
        elif tag == "option" and self._select:
            self.selects[self._select].append(dict(attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Inputs:
    parser = Inputs()
    parser.feed(html)
    return parser


def test_form_offers_each_session_type_with_the_default_checked() -> None:
    parser = parse(form.render(CATALOG))
    values = {r["value"]: "checked" in r for r in parser.radios if r.get("name") == "session"}
    assert values == {key: key == options.DEFAULT_SESSION for key in options.SESSION_TYPES}


def test_form_lists_the_catalog_and_the_limits_and_its_defaults_validate() -> None:
    limits = options.Limits(max_memory_gb=2)
    parser = parse(form.render(CATALOG, limits))
    offered = {name: [o["value"] for o in opts] for name, opts in parser.selects.items()}
    assert offered == {
        "stack": ["LCG_104", "LCG_105"],
        "platform": ["x86_64-el9-gcc13-opt", "aarch64-el9-gcc13-opt"],
        "cores": ["1", "2"],
        "memory": ["1", "2"],
        "app": ["", "plot-browser"],
    }
    text = " ".join(parser.text)
    assert "numpy 1.24.4" in text and "matplotlib 3.8.4" in text
    # What the browser posts untouched (the selected options) is accepted.
    posted = {
        name: [next(o["value"] for o in opts if "selected" in o) or ""]
        for name, opts in parser.selects.items()
    }
    chosen = options.validate(options.from_form(posted), options.Choices(CATALOG, limits))
    assert (chosen.stack, chosen.cores, chosen.memory) == ("LCG_105", 2, 2)


def test_form_without_a_catalog_says_why() -> None:
    html = form.render(None, unavailable="The software stacks (CVMFS) are unavailable: <x>")
    assert 'id="miniswan-stacks-unavailable"' in html
    assert "unavailable: &lt;x&gt;" in html
    assert "stack" not in parse(html).selects


@pytest.mark.parametrize(
    ("field", "value"),
    [("session", ["jupyterlab"]), ("stack", {"LCG": 105}), ("platform", ["x86_64"])],
)
def test_values_of_the_wrong_type_are_refused_not_crashed_on(field: str, value: Any) -> None:
    with pytest.raises(options.OptionsError):
        check({field: value})


def test_an_oversized_value_is_not_echoed_whole() -> None:
    with pytest.raises(options.OptionsError) as error:
        check({"stack": "x" * 20_000})
    assert len(str(error.value)) < 300


def test_a_desktop_only_session_starts_into_an_application_its_stack_ships() -> None:
    chosen = check({"session": "desktop", "app": "plot-browser"})
    assert (chosen.session, chosen.app) == ("desktop", "plot-browser")
    form_chosen = check(options.from_form({"session": ["desktop"], "app": ["plot-browser"]}))
    assert form_chosen.app == "plot-browser"
    assert check({"session": "desktop"}).app == ""  # a desktop


@pytest.mark.parametrize(
    ("user_options", "message"),
    [
        (
            {"session": "desktop", "stack": "LCG_104", "app": "plot-browser"},
            "Application 'plot-browser' is not in LCG_104: it ships none.",
        ),
        (
            {"session": "desktop", "app": "rm -rf"},
            "Application 'rm -rf' is not in LCG_105: it ships 'plot-browser' (Plot browser).",
        ),
        (
            {"session": "jupyterlab", "app": "plot-browser"},
            "An application (Plot browser) is started on its own only in a 'Desktop only' "
            "session; in JupyterLab, open it from the Launcher.",
        ),
        ({"session": "desktop", "app": ["plot-browser"]}, "Application ['plot-browser']"),
    ],
)
def test_an_application_the_stack_does_not_ship_or_outside_desktop_only_is_refused(
    user_options: dict[str, Any], message: str
) -> None:
    assert refusal(user_options).startswith(message)


def test_the_form_offers_each_application_with_the_releases_that_ship_it() -> None:
    html = form.render(CATALOG, options.Limits())
    assert 'name="app"' in html
    assert 'value="plot-browser" data-releases="LCG_105">Plot browser (LCG_105)<' in html
    assert 'value="" selected>A desktop (openbox and a terminal)<' in html
