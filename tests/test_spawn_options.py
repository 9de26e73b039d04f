"""The spawn page's choices: what is accepted, what is refused and how the refusal reads."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from miniswan_hub import form, options


def test_empty_choices_mean_jupyterlab() -> None:
    assert options.validate({}).session == "jupyterlab"
    assert options.validate(options.from_form({})).session == "jupyterlab"


@pytest.mark.parametrize("session", sorted(options.SESSION_TYPES))
def test_every_offered_session_type_is_accepted(session: str) -> None:
    chosen = options.validate(options.from_form({"session": [f" {session} "]}))
    assert chosen.session == session


def test_unknown_session_type_names_the_allowed_ones() -> None:
    with pytest.raises(options.OptionsError) as error:
        options.validate({"session": "vnc"})
    message = str(error.value)
    assert "'vnc'" in message
    for key in options.SESSION_TYPES:
        assert f"'{key}'" in message


def test_unknown_option_is_refused() -> None:
    with pytest.raises(options.OptionsError, match="Unknown option.*image"):
        options.validate({"image": "evil/image"})


class Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.radios: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            self.radios.append(dict(attrs))


def test_form_offers_each_session_type_with_the_default_checked() -> None:
    parser = Inputs()
    parser.feed(form.render())
    values = {r["value"]: "checked" in r for r in parser.radios if r.get("name") == "session"}
    assert values == {key: key == options.DEFAULT_SESSION for key in options.SESSION_TYPES}
