"""Keyboard layouts: validation against XKB, the REST API (create, PATCH, list, the kept
choice), the private XKB directory with the extra keys (compiled by the real xkbcomp), and a
desktop that starts with it (real xpra and Xvfb)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from miniswan_desktop import keyboard
from miniswan_desktop.keyboard import (
    LayoutError,
    check_layout,
    extra_pairs,
    extra_symbols,
    html5_keysym_names,
    load_layouts,
    load_preference,
    parse_rules_list,
    save_preference,
    spare_keycodes,
    write_xkb_dir,
)

HAS_XKB = (keyboard.SYSTEM_XKB_DIR / keyboard.RULES_LIST).exists()
requires_xkb = pytest.mark.skipif(not HAS_XKB, reason="no XKB data (apt: xkb-data)")
HAS_CLIENT = keyboard.HTML5_KEYCODES.exists()

RULES_SAMPLE = """\
! model
  pc105           Generic 105-key PC

! layout
  us              English (US)
  de              German
  ru              Russian

! variant
  intl            us: English (US, intl., with dead keys)
  nodeadkeys      de: German (no dead keys)
  phonetic        ru: Russian (phonetic)

! option
  grp             Switching to another layout
"""


def test_parse_rules_list():
    layouts = parse_rules_list(RULES_SAMPLE)
    assert list(layouts) == ["de", "ru", "us"]
    assert layouts["de"].description == "German"
    assert layouts["de"].variants == {"nodeadkeys": "German (no dead keys)"}
    assert layouts["us"].to_dict()["variants"] == {"intl": "English (US, intl., with dead keys)"}


@pytest.mark.parametrize(
    ("layout", "variant"), [("de", ""), ("de", "nodeadkeys"), ("ru", None), ("us", "intl")]
)
def test_check_layout_accepts(layout, variant):
    assert check_layout(layout, variant, parse_rules_list(RULES_SAMPLE)) == (layout, variant or "")


@pytest.mark.parametrize(
    ("layout", "variant", "fragment"),
    [
        ("xx", "", "unknown keyboard layout 'xx'"),
        ("ar", "", "unknown keyboard layout"),  # not in the sample: never guessed
        ("de", "phonetic", "no variant 'phonetic'"),
        ("de;rm -rf /", "", "XKB layout name"),
        ("", "", "XKB layout name"),
        (3, "", "XKB layout name"),
        ("de", "../x", "XKB variant name"),
        ("DE", "", "XKB layout name"),
    ],
)
def test_check_layout_rejects_with_a_hint(layout, variant, fragment):
    with pytest.raises(LayoutError) as e:
        check_layout(layout, variant, parse_rules_list(RULES_SAMPLE))
    assert fragment in str(e.value)
    assert "desktops/api/keyboard-layouts" in str(e.value)


@requires_xkb
def test_system_layouts_include_the_tested_ones():
    layouts = load_layouts()
    for name in ("us", "de", "fr", "ru", "ch", "latam", "gb"):
        assert name in layouts
    assert "nodeadkeys" in layouts["de"].variants


def test_extra_keys_fit_on_the_spare_keycodes():
    pairs = extra_pairs()
    assert len(pairs) <= len(spare_keycodes())
    chars = [c for pair in pairs for c in pair]
    assert len(chars) == len(set(chars)), "a character on two extra keys"
    for c in "azAZ@{[]}\\|~^`ßüÄé€êôжЖёЁїґ":
        assert c in chars


@pytest.mark.skipif(not HAS_CLIENT, reason="no Xpra HTML5 client (apt: xpra)")
def test_extra_keys_use_the_html5_clients_keysym_names():
    names = html5_keysym_names()
    assert names["ж"] == "Cyrillic_zhe"
    assert names["ü"] == "udiaeresis"
    assert names["@"] == "at"
    symbols = extra_symbols(names)
    assert "[ Cyrillic_zhe, Cyrillic_ZHE ]" in symbols
    assert "[ a, A ]" in symbols
    assert "[ backslash, bracketright ]" in symbols or "backslash" in symbols


def test_extra_symbols_fall_back_to_unicode_keysyms():
    assert "[ U0430, U0410 ]" in extra_symbols({})


requires_xkbcomp = pytest.mark.skipif(
    shutil.which("xkbcomp") is None, reason="no xkbcomp (apt: x11-xkb-utils)"
)


def compile_keymap(xkb: Path, symbols: str, work: Path) -> str:
    """A keymap compiled by the real xkbcomp from an XKB directory, as Xvfb compiles it."""
    keymap = work / "keymap.xkb"
    keymap.write_text(
        "xkb_keymap {\n"
        ' xkb_keycodes { include "evdev+aliases(qwerty)" };\n'
        ' xkb_types { include "complete" };\n'
        ' xkb_compat { include "complete" };\n'
        f' xkb_symbols {{ include "{symbols}" }};\n'
        "};\n"
    )
    out = work / "out.xkb"
    subprocess.run(
        ["xkbcomp", "-w0", f"-R{xkb}", str(keymap), "-xkb", str(out)], check=True, timeout=30
    )
    return out.read_text()


def on_extra_key(compiled: str, keysym: str) -> bool:
    """Whether `keysym` is on the first two levels of an extra key (<I...>/<FK..>)."""
    return bool(
        re.search(
            rf"key <(I|FK)\d+> \{{[^}}]*\[\s*({keysym},\s*\w+|\w+,\s*{keysym})\s*\]", compiled
        )
    )


COMPILED_SAMPLE = """
    key <AE01> {
        type= "FOUR_LEVEL",
        symbols[Group1]= [               1,          exclam,     onesuperior,      exclamdown ]
    };
    key <RTRN> {         [          Return ] };
    key <AC01> {
        type= "FOUR_LEVEL_ALPHABETIC",
        symbols[Group1]= [               a,               A,         aogonek,         Aogonek ]
    };
    key <AE11> {
        type= "EIGHT_LEVEL",
        symbols[Group1]= [ ssharp, question, backslash, questiondown, U1E9E ]
    };
"""


def test_layout_keys_are_read_by_level():
    keys = keyboard.parse_layout_keys(COMPILED_SAMPLE)
    assert keys.plain == {"1", "exclam", "Return", "a", "A", "ssharp", "question"}
    assert keys.fourth == ("exclamdown", "Aogonek", "questiondown", "U1E9E")


def test_extra_keys_carry_the_fourth_level_first_and_drop_what_the_layout_has():
    names = {"Ą": "Aogonek", "¡": "exclamdown", "¿": "questiondown", "a": "a", "A": "A"}
    own = keyboard.parse_layout_keys(COMPILED_SAMPLE + "[ dead_acute, x, y, dead_ogonek ]")
    pairs = keyboard.extra_keysyms(names, own)
    # the layout's Shift+AltGr keysyms (dead keys never: the browser composes them)
    assert pairs[:2] == [("exclamdown", "Aogonek"), ("questiondown", "U1E9E")]
    flat = [sym for pair in pairs for sym in pair]
    assert "a" not in flat and "A" not in flat  # on the layout's own key already
    assert "U0430" in flat  # a shared pair the layout lacks (Cyrillic a)
    assert len(pairs) <= len(spare_keycodes())


@requires_xkb
@requires_xkbcomp
@pytest.mark.parametrize("layout", ["ru", "de", "fr", "us", "pl"])
def test_private_xkb_dir_compiles_with_extra_keys(tmp_path: Path, layout: str):
    xkb = write_xkb_dir(tmp_path / "xkb", layout)
    compiled = compile_keymap(xkb, f"pc+{layout}+inet(evdev)", tmp_path)
    # Latin letters even in ru, Cyrillic even in us, on the extra keys
    assert ("a" if layout == "ru" else "Cyrillic_zhe") in compiled
    assert on_extra_key(compiled, "Cyrillic_zhe") == (layout != "ru")
    assert on_extra_key(compiled, "a") == (layout == "ru")
    # the layout's own keys are untouched (KeyQ is q, a or Cyrillic_shorti)
    q = {"ru": "Cyrillic_shorti", "de": "q", "fr": "a", "us": "q", "pl": "q"}[layout]
    assert re.search(rf"key <AD01> \{{[^}}]*\[\s*{q},", compiled)


@requires_xkb
@requires_xkbcomp
def test_a_layout_change_rewrites_the_extra_keys_for_its_fourth_level(tmp_path: Path):
    xkb = write_xkb_dir(tmp_path / "xkb", "us")
    assert not on_extra_key(compile_keymap(xkb, "pc+us+inet(evdev)", tmp_path), "Aogonek")
    keyboard.write_extra_keys(xkb, "pl")
    compiled = compile_keymap(xkb, "pc+pl+inet(evdev)", tmp_path)
    for capital in ("Aogonek", "Zabovedot", "Lstroke", "Oacute", "Sacute"):
        assert on_extra_key(compiled, capital), capital
    keyboard.write_extra_keys(xkb, "de")
    compiled = compile_keymap(xkb, "pc+de+inet(evdev)", tmp_path)
    assert on_extra_key(compiled, "Oslash") and on_extra_key(compiled, "AE")


def test_preference_round_trip(tmp_path: Path):
    path = tmp_path / "home" / ".config" / "miniswan-desktop" / "keyboard.json"
    assert load_preference(path) is None
    save_preference(path, "de", "nodeadkeys")
    if HAS_XKB:
        assert load_preference(path) == ("de", "nodeadkeys")
    path.write_text('{"layout": "../../etc"}')
    assert load_preference(path) is None
    path.write_text("not json")
    assert load_preference(path) is None


# ---- REST -----------------------------------------------------------------------------


@pytest.fixture
def desktop_config():
    return {"max_desktops": 2, "start_timeout": 30.0}


@requires_xkb
async def test_layouts_are_listed(jp_fetch):
    r = await jp_fetch("desktops", "api", "keyboard-layouts")
    layouts = {layout["name"]: layout for layout in json.loads(r.body)}
    assert layouts["de"]["description"]
    assert "nodeadkeys" in layouts["de"]["variants"]


@requires_xkb
@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"layout": "xx"}, "unknown keyboard layout 'xx'"),
        ({"layout": "de", "variant": "bogus"}, "no variant 'bogus'"),
        ({"layout": ["de"]}, "XKB layout name"),
    ],
)
async def test_create_rejects_unknown_layouts(api, body, fragment):
    r = await api.call("POST", body=body)
    assert r.code == 400, r.body
    message = json.loads(r.body)["message"]
    assert fragment in message and "keyboard-layouts" in message
    assert await api.list() == []


@requires_xkb
async def test_layout_at_creation_and_update(api, xpra_required):
    d = await api.create(layout="de", variant="nodeadkeys")
    assert (d["layout"], d["variant"]) == ("de", "nodeadkeys")
    running = await api.wait_state(d["id"], {"running", "failed"})
    assert running["state"] == "running", running  # Xvfb accepted the private XKB dir

    r = await api.call("PATCH", d["id"], body={"layout": "fr"})
    assert r.code == 200, r.body
    assert (json.loads(r.body)["layout"], json.loads(r.body)["variant"]) == ("fr", "")
    assert (await api.get(d["id"]))["layout"] == "fr"

    for body, code in [
        ({"layout": "qq"}, 400),
        ({"variant": "x"}, 400),
        ({"layout": "fr", "colour": 1}, 400),
        ("[]", 400),
    ]:
        r = await api.call("PATCH", d["id"], body=body)
        assert r.code == code, (body, r.body)
    assert (await api.get(d["id"]))["layout"] == "fr"
    r = await api.call("PATCH", "nosuchid", body={"layout": "fr"})
    assert r.code == 404
    await api.delete(d["id"])


@requires_xkb
async def test_the_users_choice_is_kept_read_and_forgotten(jp_fetch, keyboard_file):
    """desktops/api/keyboard (keyboard_api.py, the same on the desktop-only server)."""

    async def call(method: str, body: object = None) -> tuple[int, dict]:
        r = await jp_fetch(
            "desktops", "api", "keyboard", method=method, raise_error=False,
            body=None if body is None else json.dumps(body),
        )  # fmt: skip
        return r.code, json.loads(r.body)

    assert await call("GET") == (200, {"layout": "", "variant": "", "saved": False})
    for bad in ({"layout": "qq"}, {"layout": "de", "variant": "qq"}, {"variant": "x"}, []):
        code, body = await call("PUT", bad)
        assert code == 400 and "message" in body, bad
    assert not keyboard_file.exists()
    kept = {"layout": "de", "variant": "nodeadkeys"}
    assert await call("PUT", kept) == (200, {**kept, "saved": True})
    assert json.loads(keyboard_file.read_text()) == kept
    assert await call("GET") == (200, {**kept, "saved": True})
    assert await call("DELETE") == (200, {"layout": "", "variant": "", "saved": False})
    assert not keyboard_file.exists()


@requires_xkb
async def test_default_layout_is_us(api):
    # max 2 desktops: validation only, the desktop is deleted at once
    d = await api.create()
    assert (d["layout"], d["variant"]) == ("us", "")
    await api.delete(d["id"])


# ---- the browser's layout guesses (src/layouts.json, used by src/keyboard.ts) ----------


def test_the_frontends_layout_guesses_are_layouts_xkb_knows():
    """Every table names layouts XKB knows, so a guess never sends a name setxkbmap refuses."""
    data = json.loads((Path(keyboard.__file__).parents[1] / "src" / "layouts.json").read_text())
    known = keyboard.load_layouts()
    guesses = set(data["language_layouts"].values()) | set(data["region_layouts"])
    guesses |= set(data["non_latin"]) | set(data["qwertz"]) | set(data["azerty"])
    assert guesses
    assert guesses - set(known) == set()
