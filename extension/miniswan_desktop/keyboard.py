"""Keyboard layouts of desktops: validation against XKB's list, and the private XKB data
directory that lets every character arrive whatever the layout. No jupyter_server imports.

Why a private XKB directory (see docs/keyboard.md): the Xpra 3.1 HTML5 client sends each key
as an X keysym *name* (``udiaeresis``, ``Cyrillic_ya``, ``at``), and the Xpra server presses
whichever keycode of the session's keymap carries that keysym. A keysym the keymap lacks
(Latin letters in ``ru``, Cyrillic in ``de``) is dropped. Xpra 3.1 cannot use a second XKB
group for the HTML5 client (it never switches groups for it), so instead every keymap gets
extra keys, on keycodes no PC layout uses, that carry the layout's fourth-level keysyms and
the Latin, ASCII, Cyrillic and common European keysyms it lacks on their first two levels.
Xpra finds them like any other key. This is done by giving each desktop's Xvfb
(``-xkbdir``) a copy of the system XKB data (symlinks) whose ``symbols/inet`` ``evdev``
section (appended to every keymap by the ``evdev`` rules) is ours, rewritten when the
desktop's layout changes.
"""

from __future__ import annotations

import json
import os
import re
import reprlib
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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


# ---- the layout's own keys, and what the extra keys add to them --------------------------
# Xpra 3.1 reads a keysym's column in the core keymap as group*4 + mode*2 + shift; XKB puts
# a layout's fourth level (Shift+AltGr: "Ą" on a Polish keyboard) in column 5, which Xpra
# takes for "group 2 with Shift", so it releases AltGr and types the key's Shift letter.
# Keysyms that sit on an extra key's first two levels arrive: so each desktop's extra keys
# carry its layout's fourth-level keysyms too, and leave out the shared pairs the layout
# already has on its first two levels (a-z in pl) to make room for them.

_KEYMAP = """xkb_keymap {{
  xkb_keycodes {{ include "evdev+aliases(qwerty)" }};
  xkb_types {{ include "complete" }};
  xkb_compat {{ include "complete" }};
  xkb_symbols {{ include "{symbols}" }};
}};
"""
_KEY_BLOCK = re.compile(r"\bkey <[^>]+> \{(.*?)\};", re.S)
_GROUP1 = re.compile(r"symbols\[Group1\]\s*=\s*\[([^\]]*)\]|^\s*\[([^\]]*)\]")
_UNICODE_KEYSYM = re.compile(r"U[0-9A-F]{4,6}")


@dataclass(frozen=True)
class LayoutKeys:
    """The keysym names of a layout's first group, by the levels Xpra 3.1 can reach."""

    plain: frozenset[str] = frozenset()  # levels 1 and 2: a key, with or without Shift
    fourth: tuple[str, ...] = ()  # levels 4 and beyond (Shift+AltGr), in key order


def parse_layout_keys(compiled: str) -> LayoutKeys:
    """The keysyms of a keymap compiled by ``xkbcomp -xkb``."""
    plain: set[str] = set()
    fourth: list[str] = []
    for body in _KEY_BLOCK.findall(compiled):
        found = _GROUP1.search(body)
        if not found:
            continue
        syms = [s.strip() for s in (found.group(1) or found.group(2)).split(",")]
        plain.update(syms[:2])
        fourth.extend(syms[3:])
    return LayoutKeys(frozenset(plain), tuple(dict.fromkeys(fourth)))


def layout_keys(layout: str, variant: str = "", system: Path = SYSTEM_XKB_DIR) -> LayoutKeys:
    """Compile a layout (already validated) from the system's XKB data with ``xkbcomp``, no
    X server needed (about 10 ms; the result is kept with the layout's ``inet``). Nothing
    if xkbcomp fails: the extra keys are then the shared pairs alone."""
    symbols = f"pc+{layout}({variant})" if variant else f"pc+{layout}"
    try:
        compiled = subprocess.run(
            ["xkbcomp", "-w0", f"-R{system}", "-xkb", "-", "-"],
            input=_KEYMAP.format(symbols=symbols),
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return LayoutKeys()
    return parse_layout_keys(compiled)


def extra_keysyms(names: dict[str, str], own: LayoutKeys) -> list[tuple[str, str]]:
    """The keysym names the extra keys carry, two per key: the layout's fourth-level
    keysyms first, then the shared pairs it lacks; as many as there are spare keycodes."""
    shared = [(keysym_name(a, names), keysym_name(b, names)) for a, b in extra_pairs()]
    shared = [pair for pair in shared if not set(pair) <= own.plain]
    carried = own.plain.union(*map(set, shared))
    typable = set(names.values())  # what the HTML5 client can send (dead keys are not)
    fourth = [
        sym
        for sym in own.fourth
        if sym not in carried and (sym in typable or _UNICODE_KEYSYM.fullmatch(sym))
    ]
    own_pairs = [(a, b or a) for a, b in zip(fourth[::2], [*fourth[1::2], ""], strict=False)]
    # Beyond the spare keycodes (no layout comes near): the last shared pairs go.
    return (own_pairs + shared)[: len(spare_keycodes())]


def extra_symbols(names: dict[str, str] | None = None, own: LayoutKeys | None = None) -> str:
    """The ``xkb_symbols "evdev"`` section with the extra keys for a layout's keys."""
    names = html5_keysym_names() if names is None else names
    keysyms = extra_keysyms(names, own or LayoutKeys())
    lines = [
        "// written by miniswan-desktop: keysyms the layout may lack, on spare keycodes,",
        "// so that Xpra finds a key for every character the HTML5 client sends",
        'xkb_symbols "evdev" {',
    ]
    for key, (lower, upper) in zip(spare_keycodes(), keysyms, strict=False):
        lines.append(f'    key {key} {{ type[Group1] = "TWO_LEVEL", [ {lower}, {upper} ] }};')
    lines.append("};")
    return "\n".join(lines) + "\n"


def write_xkb_dir(
    target: Path, layout: str = "us", variant: str = "", system: Path = SYSTEM_XKB_DIR
) -> Path:
    """Create (or refresh) a desktop's private XKB directory: symlinks to the system's data,
    except ``symbols/inet``, whose ``evdev`` section holds the extra keys for `layout`."""
    symbols = target / "symbols"
    symbols.mkdir(parents=True, exist_ok=True, mode=0o700)
    for entry in system.iterdir():
        if entry.name != "symbols":
            _symlink(entry, target / entry.name)
    for entry in (system / "symbols").iterdir():
        if entry.name != "inet":
            _symlink(entry, symbols / entry.name)
    write_extra_keys(target, layout, variant, system)
    return target


def write_extra_keys(
    target: Path, layout: str, variant: str = "", system: Path = SYSTEM_XKB_DIR
) -> None:
    """Rewrite the extra keys of a private XKB directory for `layout`. Xvfb reads them when
    the keymap is next set (Xpra does on the client's hello and ``layout-changed``)."""
    tmp = target / "symbols" / f".inet.{os.getpid()}"
    tmp.write_text(_inet_with_extra_keys(layout, variant, system))
    tmp.replace(target / "symbols" / "inet")


@lru_cache(maxsize=64)
def _inet_with_extra_keys(layout: str, variant: str, system: Path) -> str:
    """``symbols/inet`` for a layout: made once per layout (the system file read, the client's
    keysym names, the layout compiled), then each desktop's start only writes it."""
    inet = (system / "symbols" / "inet").read_text(errors="replace")
    # keep the original section under another name (nothing includes it any more)
    inet = inet.replace('xkb_symbols "evdev"', 'xkb_symbols "evdev_multimedia"', 1)
    return inet + "\n" + extra_symbols(own=layout_keys(layout, variant, system))


def _symlink(source: Path, link: Path) -> None:
    if link.is_symlink() and os.readlink(link) == str(source):
        return
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(source)


# ---- the user's kept choice (keyboard_api.py, both servers) -----------------------------


def preference_path(home: Path | None = None) -> Path:
    """Where both servers keep the user's layout by default (DesktopSettings.keyboard_file):
    in the home directory, so it follows the user between JupyterLab and desktop-only
    sessions."""
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
