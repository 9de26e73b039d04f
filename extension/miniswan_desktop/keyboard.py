"""Keyboard layouts of desktops: validation against XKB's list, and the private XKB data
directory that lets every character arrive whatever the layout. No jupyter_server imports.

Why a private XKB directory (see docs/keyboard.md): the Xpra 3.1 HTML5 client sends each key
as an X keysym *name* (``udiaeresis``, ``Cyrillic_ya``, ``at``), and the Xpra server presses
whichever keycode of the session's keymap carries that keysym. A keysym the keymap lacks
(Latin letters in ``ru``, Cyrillic in ``de``) is dropped. Xpra 3.1 cannot use a second XKB
group for the HTML5 client (it never switches groups for it), so instead every keymap gets
extra keys, on keycodes no PC layout uses, that carry Latin, ASCII, Cyrillic and common
European keysyms on their first two levels. Xpra finds them like any other key. This is done
by giving Xvfb (``-xkbdir``) a copy of the system XKB data (symlinks) whose
``symbols/inet`` ``evdev`` section (appended to every keymap by the ``evdev`` rules) is ours.
"""

from __future__ import annotations

import json
import os
import re
import reprlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SYSTEM_XKB_DIR = Path("/usr/share/X11/xkb")
RULES_LIST = "rules/evdev.lst"
HTML5_KEYCODES = Path("/usr/share/xpra/www/js/Keycodes.js")

# Layout and variant names in evdev.lst are lower-case ASCII words ("de", "latam",
# "nodeadkeys", "dvorak-intl"): anything else never reaches setxkbmap.
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}\Z")

HOW_TO_LIST = (
    "GET desktops/api/keyboard-layouts lists the valid layouts and their variants "
    "(the XKB names of /usr/share/X11/xkb/rules/evdev.lst, as `localectl "
    "list-x11-keymap-layouts` shows them)"
)


class LayoutError(ValueError):
    """A keyboard layout or variant that XKB does not know."""


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    variants: dict[str, str]

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "description": self.description, "variants": self.variants}


def parse_rules_list(text: str) -> dict[str, Layout]:
    """The layouts of an ``evdev.lst`` file (sections ``! layout`` and ``! variant``)."""
    section = ""
    descriptions: dict[str, str] = {}
    variants: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        if line.startswith("!"):
            section = line[1:].strip()
            continue
        parts = line.split(None, 1)
        if not parts:
            continue
        if section == "layout":
            descriptions[parts[0]] = parts[1].strip() if len(parts) > 1 else ""
        elif section == "variant" and len(parts) == 2:
            layout, _, description = parts[1].partition(":")
            variants.setdefault(layout.strip(), {})[parts[0]] = description.strip()
    return {
        name: Layout(name, description, dict(sorted(variants.get(name, {}).items())))
        for name, description in sorted(descriptions.items())
    }


@lru_cache(maxsize=4)
def load_layouts(xkb_dir: Path = SYSTEM_XKB_DIR) -> dict[str, Layout]:
    """The layouts XKB knows here (empty if the rules list is missing)."""
    try:
        return parse_rules_list((xkb_dir / RULES_LIST).read_text(errors="replace"))
    except OSError:
        return {}


def check_layout(
    layout: object, variant: object = "", layouts: dict[str, Layout] | None = None
) -> tuple[str, str]:
    """Return ``(layout, variant)`` if XKB knows them, else raise LayoutError with a hint."""
    known = load_layouts() if layouts is None else layouts
    if variant is None:
        variant = ""
    if not isinstance(layout, str) or not _NAME.match(layout):
        raise LayoutError(
            "keyboard layout must be an XKB layout name like 'de', "
            f"not {reprlib.repr(layout)}; {HOW_TO_LIST}"
        )
    if not isinstance(variant, str) or (variant and not _NAME.match(variant)):
        raise LayoutError(
            f"keyboard variant must be an XKB variant name like 'nodeadkeys', "
            f"not {reprlib.repr(variant)}; {HOW_TO_LIST}"
        )
    if known and layout not in known:
        raise LayoutError(f"unknown keyboard layout {reprlib.repr(layout)}; {HOW_TO_LIST}")
    if known and variant and variant not in known[layout].variants:
        raise LayoutError(
            f"layout {reprlib.repr(layout)} has no variant {reprlib.repr(variant)}; {HOW_TO_LIST}"
        )
    return layout, variant


# ---- the extra keys -------------------------------------------------------------------

# Pairs (level 1, level 2) of characters every keymap gets on spare keycodes. Xpra toggles
# Shift as needed, so a pair need not be a lower/upper case pair.
# (digits are on every layout; their room goes to accented letters that browsers compose
# from dead keys)
_ASCII_SYMBOLS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґў"
_EUROPEAN = [
    *zip("äöüéèêàâçùñîôûëïáíóúå", "ÄÖÜÉÈÊÀÂÇÙÑÎÔÛËÏÁÍÓÚÅ", strict=True),
    ("ß", "§"),
    ("€", "£"),
    ("°", "µ"),
]


def extra_pairs() -> list[tuple[str, str]]:
    """The characters the extra keys carry, two per key."""
    pairs = [(c, c.upper()) for c in "abcdefghijklmnopqrstuvwxyz"]
    pairs += [(_ASCII_SYMBOLS[i], _ASCII_SYMBOLS[i + 1]) for i in range(0, len(_ASCII_SYMBOLS), 2)]
    pairs += [(c, c.upper()) for c in _CYRILLIC]
    pairs += _EUROPEAN
    return pairs


def spare_keycodes() -> list[str]:
    """XKB key names (evdev keycodes 147-190, 191-202, 208-255) that no PC layout uses:
    ``inet(evdev)`` puts multimedia keysyms there, which a browser never sends."""
    return (
        [f"<I{n}>" for n in range(147, 191)]
        + [f"<FK{n}>" for n in range(13, 25)]
        + [f"<I{n}>" for n in range(208, 256)]
    )


def html5_keysym_names(keycodes_js: Path = HTML5_KEYCODES) -> dict[str, str]:
    """Character -> keysym name as the Xpra HTML5 client names it (its ``CHAR_TO_NAME``:
    the last name for a code point wins, as in the client's loop)."""
    names: dict[str, str] = {" ": "space"}
    try:
        text = keycodes_js.read_text(errors="replace")
    except OSError:
        return names
    block = text.split("KEYSYM_TO_UNICODE = {", 1)[-1].split("};", 1)[0]
    for name, code in re.findall(r'"(\w+)"\s*:\s*0x([0-9A-Fa-f]+)', block):
        names[chr(int(code, 16))] = name
    return names


def keysym_name(char: str, names: dict[str, str]) -> str:
    """The keysym for a character: the client's name, else XKB's ``Uxxxx`` form."""
    return names.get(char) or f"U{ord(char):04X}"


def extra_symbols(names: dict[str, str] | None = None) -> str:
    """The ``xkb_symbols "evdev"`` section with the extra keys."""
    names = html5_keysym_names() if names is None else names
    pairs = extra_pairs()
    keys = spare_keycodes()
    if len(pairs) > len(keys):
        raise RuntimeError(f"{len(pairs)} extra key pairs but only {len(keys)} spare keycodes")
    lines = [
        "// written by miniswan-desktop: keysyms the layout may lack, on spare keycodes,",
        "// so that Xpra finds a key for every character the HTML5 client sends",
        'xkb_symbols "evdev" {',
    ]
    for key, (lower, upper) in zip(keys, pairs, strict=False):  # more keys than pairs
        lines.append(
            f'    key {key} {{ type[Group1] = "TWO_LEVEL", '
            f"[ {keysym_name(lower, names)}, {keysym_name(upper, names)} ] }};"
        )
    lines.append("};")
    return "\n".join(lines) + "\n"


def write_xkb_dir(target: Path, system: Path = SYSTEM_XKB_DIR) -> Path:
    """Create (or refresh) the private XKB directory: symlinks to the system's data, except
    ``symbols/inet``, whose ``evdev`` section is replaced by :func:`extra_symbols`."""
    symbols = target / "symbols"
    symbols.mkdir(parents=True, exist_ok=True, mode=0o700)
    for entry in system.iterdir():
        if entry.name != "symbols":
            _symlink(entry, target / entry.name)
    for entry in (system / "symbols").iterdir():
        if entry.name != "inet":
            _symlink(entry, symbols / entry.name)
    inet = (system / "symbols" / "inet").read_text(errors="replace")
    # keep the original section under another name (nothing includes it any more)
    inet = inet.replace('xkb_symbols "evdev"', 'xkb_symbols "evdev_multimedia"', 1)
    tmp = symbols / f".inet.{os.getpid()}"
    tmp.write_text(inet + "\n" + extra_symbols())
    tmp.replace(symbols / "inet")
    return target


def _symlink(source: Path, link: Path) -> None:
    if link.is_symlink() and os.readlink(link) == str(source):
        return
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(source)


# ---- the user's choice, for the desktop-only server ------------------------------------


def preference_path(home: Path | None = None) -> Path:
    """Where the desktop-only server keeps the user's layout: in the home directory, so it
    follows the user (JupyterLab keeps its own copy in its settings)."""
    return (home or Path.home()) / ".config" / "miniswan-desktop" / "keyboard.json"


def load_preference(path: Path) -> tuple[str, str] | None:
    """The saved ``(layout, variant)``, or None if there is none or it is not valid."""
    try:
        data = json.loads(path.read_text())
        return check_layout(data.get("layout"), data.get("variant", ""))
    except (OSError, ValueError, AttributeError):
        return None


def save_preference(path: Path, layout: str, variant: str = "") -> None:
    """Save the user's ``(layout, variant)`` (already validated)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps({"layout": layout, "variant": variant}) + "\n")
    tmp.replace(path)


# ---- the browser language's layout (the desktop-only page) -----------------------------
# The frontend's tables (src/layouts.json, read by src/keyboard.ts too): regions that name a
# keyboard, and the layout of each language. The wheel carries a copy beside this module.


def _layout_tables() -> dict[str, Any]:
    here = Path(__file__).resolve().parent
    for path in (here / "layouts.json", here.parent / "src" / "layouts.json"):
        if path.is_file():
            return json.loads(path.read_text())
    raise RuntimeError(f"layouts.json is missing beside {here} and in its source checkout")


_TABLES = _layout_tables()
REGION_LAYOUTS = frozenset(_TABLES["region_layouts"])
US_ENGLISH_REGIONS = frozenset(_TABLES["us_english_regions"])
LANGUAGE_LAYOUTS: dict[str, str] = dict(_TABLES["language_layouts"])
NON_LATIN = frozenset(_TABLES["non_latin"])


def layout_for_language(language: str | None) -> str:
    """The XKB layout for a browser language tag (``layoutForLanguage`` in keyboard.ts)."""
    parts = [
        p
        for p in (language or "").lower().replace("_", "-").split("-")
        if not re.fullmatch(r"[a-z]{4}", p)
    ]
    lang = parts[0] if parts else ""
    region = parts[1] if len(parts) > 1 else ""
    if lang == "es" and region and region != "es":
        return "latam"
    if lang == "fr" and region == "ca":
        return "ca"
    if lang == "en" and region == "ca":
        return "us"
    if lang == "en" and region in US_ENGLISH_REGIONS:
        return "us"
    if region and region in REGION_LAYOUTS:
        own = LANGUAGE_LAYOUTS.get(lang)
        if not own or own not in NON_LATIN or region in NON_LATIN:
            return region
        return own
    return LANGUAGE_LAYOUTS.get(lang, "us")


def layout_for_accept_language(header: str | None) -> str:
    """The layout for the first language of an ``Accept-Language`` header."""
    first = (header or "").split(",")[0].split(";")[0].strip()
    return layout_for_language(first)
