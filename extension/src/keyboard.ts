/**
 * Keyboard layouts, the rules both pages share (the JupyterLab panel and the desktop-only
 * page): which XKB layout a user's keyboard has (the browser's layout map, else its
 * language through our table), the selector's options, and how a running Xpra HTML5 client
 * is switched to another layout without a restart. No JupyterLab here: the desktop-only
 * page's bundle (standalone.ts) imports it too. The panel's toolbar control is in
 * keyboardcontrol.ts. See docs/keyboard.md.
 */

// The language -> layout tables, as data (src/layouts.json).
import tables from './layouts.json';

/** An XKB layout and variant (`de` + `nodeadkeys`; variant empty for the basic one). */
export interface IKeyboardLayout {
  layout: string;
  variant: string;
}

/** A layout as the server lists it (`desktops/api/keyboard-layouts`). */
export interface ILayoutInfo {
  name: string;
  description: string;
  variants: Record<string, string>;
}

/**
 * Regions whose code is also the XKB layout of that country's keyboards (`de-CH` -> `ch`,
 * `pt-BR` -> `br`). Regions not listed fall back to the language.
 */
export const REGION_LAYOUTS: ReadonlySet<string> = new Set(
  tables.region_layouts
);

/** English-speaking regions whose keyboards are US ones (`in` is an Indic layout). */
const US_ENGLISH_REGIONS: ReadonlySet<string> = new Set(
  tables.us_english_regions
);

/**
 * The layout of a bare language (`fr` -> `fr`, `sv` -> `se`, `en` -> `us`). Xpra 3.1's table
 * reads some tags wrongly (`es-AR` became Arabic, xpra#2241); ours takes the region only
 * where it names a keyboard, and never reads a region as a language.
 */
export const LANGUAGE_LAYOUTS: Readonly<Record<string, string>> =
  tables.language_layouts;

/** Layouts whose letters are not Latin: a Latin keyboard never has them. */
const NON_LATIN: ReadonlySet<string> = new Set(tables.non_latin);

/** Layouts with QWERTZ letters (KeyY types z). */
const QWERTZ: ReadonlySet<string> = new Set(tables.qwertz);

/** Layouts with AZERTY letters (KeyQ types a). */
const AZERTY: ReadonlySet<string> = new Set(tables.azerty);

/**
 * The XKB layout for a browser language tag (`navigator.language`); `us` when unknown.
 * Spanish outside Spain is `latam` (Xpra 3.1 reads `es-AR` as Arabic, xpra#2241).
 */
export function layoutForLanguage(language: string | undefined | null): string {
  const [lang = '', region = ''] = (language ?? '')
    .toLowerCase()
    .replace(/_/g, '-')
    .split('-')
    .filter(part => !/^[a-z]{4}$/.test(part)); // drop a script subtag (sr-Latn-RS)
  if (lang === 'es' && region && region !== 'es') {
    return 'latam';
  }
  if (lang === 'fr' && region === 'ca') {
    return 'ca';
  }
  if (lang === 'en' && region === 'ca') {
    return 'us';
  }
  if (lang === 'en' && US_ENGLISH_REGIONS.has(region)) {
    return 'us';
  }
  if (region && REGION_LAYOUTS.has(region)) {
    // a region's layout is for its languages: `en-CH` typists are Swiss, `ru-DE` is not
    const own = LANGUAGE_LAYOUTS[lang];
    if (!own || !NON_LATIN.has(own) || NON_LATIN.has(region)) {
      return region;
    }
    return own;
  }
  return LANGUAGE_LAYOUTS[lang] ?? 'us';
}

/** What `navigator.keyboard.getLayoutMap()` gives: physical key code -> character. */
export type KeyMap = ReadonlyMap<string, string>;

/**
 * The layout a physical keyboard has, from its key map, refined by the language:
 * AZERTY -> `fr` (or `be`), QWERTZ -> `de` (or the language's QWERTZ layout: `ch`, `cz`..),
 * Cyrillic -> `ru` (or `ua`, `by`, `bg`...), QWERTY with a non-Latin language -> `us`
 * (a Russian browser on an English keyboard), `#` left of Enter -> `gb`.
 * Undefined when the map tells nothing.
 */
export function layoutFromKeyMap(
  map: KeyMap | undefined | null,
  language?: string | null
): string | undefined {
  const q = map?.get('KeyQ');
  const y = map?.get('KeyY');
  if (!q) {
    return undefined;
  }
  const fromLanguage = layoutForLanguage(language);
  if (/[\u0400-\u04ff]/.test(q)) {
    return NON_LATIN.has(fromLanguage) && fromLanguage !== 'gr'
      ? fromLanguage
      : 'ru';
  }
  if (q === 'a') {
    return AZERTY.has(fromLanguage) ? fromLanguage : 'fr';
  }
  if (y === 'z') {
    return QWERTZ.has(fromLanguage) ? fromLanguage : 'de';
  }
  if (q === 'q' && y === 'y') {
    if (NON_LATIN.has(fromLanguage) || QWERTZ.has(fromLanguage)) {
      return map?.get('Backslash') === '#' ? 'gb' : 'us';
    }
    if (AZERTY.has(fromLanguage)) {
      return 'us';
    }
    if (fromLanguage === 'us' && map?.get('Backslash') === '#') {
      return 'gb';
    }
    return fromLanguage;
  }
  return undefined;
}

/** The parts of `navigator` we read (a parameter, so tests can fake it). */
export interface INavigatorLike {
  language?: string;
  keyboard?: { getLayoutMap?: () => Promise<KeyMap> };
}

/**
 * The user's layout as the browser tells it: the layout map where the browser offers
 * one (Chromium, secure contexts), else the language.
 */
export async function detectLayout(
  nav: INavigatorLike | undefined = typeof navigator !== 'undefined'
    ? (navigator as INavigatorLike)
    : undefined
): Promise<IKeyboardLayout> {
  let fromMap: string | undefined;
  try {
    const map = await nav?.keyboard?.getLayoutMap?.();
    fromMap = layoutFromKeyMap(map, nav?.language);
  } catch {
    // not allowed here (e.g. inside a cross-origin frame): use the language
  }
  return { layout: fromMap ?? layoutForLanguage(nav?.language), variant: '' };
}

/** `de` / `de (nodeadkeys)`, for labels. */
export function layoutLabel(value: IKeyboardLayout): string {
  return value.variant ? `${value.layout} (${value.variant})` : value.layout;
}

/** `de` or `de:nodeadkeys` <-> `{layout, variant}`, as the selector's option values. */
export function layoutValue(value: IKeyboardLayout): string {
  return value.variant ? `${value.layout}:${value.variant}` : value.layout;
}

export function parseLayoutValue(value: string): IKeyboardLayout {
  const [layout = '', variant = ''] = value.split(':');
  return { layout, variant };
}

/** Layouts offered first in the selector (the rest follow, by name). */
export const COMMON_LAYOUTS = [
  'us',
  'gb',
  'de',
  'ch',
  'fr',
  'be',
  'it',
  'es',
  'latam',
  'pt',
  'br',
  'nl',
  'se',
  'no',
  'dk',
  'fi',
  'pl',
  'cz',
  'ru',
  'ua',
  'gr',
  'tr',
  'jp'
];

/**
 * Switch a running Xpra HTML5 client (the page in `frame`) to a layout: the client sends
 * Xpra's `layout-changed` packet, and the server sets the keymap (setxkbmap) and rebuilds
 * its keysym -> keycode table. Setting the keymap from outside Xpra would leave that
 * table stale. Returns false while the client is not connected yet.
 */
export function applyToClient(
  frame: HTMLIFrameElement | null | undefined,
  value: IKeyboardLayout
): boolean {
  let client: any;
  try {
    client = (frame?.contentWindow as any)?.client;
  } catch {
    return false; // not our origin
  }
  if (!client || !client.connected || typeof client.send !== 'function') {
    return false;
  }
  ignoreDeadKeys(client);
  // the client falls back to keyboard_layout after a key of another script (Cyrillic
  // in a `de` session flips it to `ru` for that key)
  client.keyboard_layout = value.layout;
  // what the server has: our last switch, else the client's hello (layout, no variant);
  // switching again to the same would only reset the keymap under the user's typing
  const current = client.miniswanLayout ?? client.key_layout;
  if (current !== layoutValue(value)) {
    client.key_layout = value.layout;
    client.send(['layout-changed', value.layout, value.variant]);
    client.miniswanLayout = layoutValue(value);
  }
  return true;
}

/**
 * Keep dead keys away from the X server: the browser composes `^` + `e` into `ê` itself
 * and sends that, but the HTML5 client also sends the dead key (as the keysym its keyCode
 * table gives, e.g. `dead_circumflex`), so X composed it once more and dropped the `ê`.
 */
export function ignoreDeadKeys(client: any): void {
  if (!client || client.miniswanIgnoresDeadKeys) {
    return;
  }
  const process = client._keyb_process;
  if (typeof process !== 'function') {
    return;
  }
  client._keyb_process = function (pressed: boolean, event: KeyboardEvent) {
    if (event && event.key === 'Dead') {
      return false; // handled: the browser sends the composed character next
    }
    return process.call(this, pressed, event);
  };
  client.miniswanIgnoresDeadKeys = true;
}

/**
 * Keep the client in `frame` on `value`: retry until it is connected (after a load or a
 * reconnect). Returns a function that cancels the retries.
 */
export function applyWhenConnected(
  frame: () => HTMLIFrameElement | null | undefined,
  value: IKeyboardLayout,
  timeoutMs = 60000,
  intervalMs = 250
): () => void {
  const deadline = Date.now() + timeoutMs;
  let timer = 0;
  const attempt = () => {
    if (applyToClient(frame(), value) || Date.now() > deadline) {
      return;
    }
    timer = window.setTimeout(attempt, intervalMs);
  };
  attempt();
  return () => window.clearTimeout(timer);
}

/**
 * The selector's options `[value, label]`: common layouts first, then all others; the
 * variants of the current layout; the current value even if the list lacks it.
 */
export function layoutOptions(
  layouts: ILayoutInfo[],
  current: IKeyboardLayout
): [string, string][] {
  const byName = new Map(layouts.map(info => [info.name, info]));
  const names = [
    ...COMMON_LAYOUTS.filter(name => byName.has(name) || !layouts.length),
    ...Array.from(byName.keys())
      .filter(name => !COMMON_LAYOUTS.includes(name))
      .sort()
  ];
  const options: [string, string][] = [];
  for (const name of names) {
    const info = byName.get(name);
    options.push([
      name,
      info?.description ? `${name} – ${info.description}` : name
    ]);
    if (name === current.layout && info) {
      for (const [variant, description] of Object.entries(info.variants)) {
        options.push([
          layoutValue({ layout: name, variant }),
          `${name} (${variant}) – ${description}`
        ]);
      }
    }
  }
  const value = layoutValue(current);
  if (!options.some(([v]) => v === value)) {
    options.unshift([value, layoutLabel(current)]);
  }
  return options;
}

/**
 * The selector's first option: forget the kept layout and take this browser's keyboard
 * again (what a user had before choosing one). No XKB layout has this name.
 */
export const AUTOMATIC = 'automatic';
export const AUTOMATIC_LABEL = "Automatic: this browser's keyboard";

/**
 * Fill a `<select>` with AUTOMATIC and `layoutOptions`, and select `current` (panel and page
 * alike).
 */
export function renderLayoutOptions(
  select: HTMLSelectElement,
  layouts: ILayoutInfo[],
  current: IKeyboardLayout
): void {
  const options: [string, string][] = [
    [AUTOMATIC, AUTOMATIC_LABEL],
    ...layoutOptions(layouts, current)
  ];
  select.replaceChildren(
    ...options.map(([value, label]) => {
      const option = document.createElement('option');
      option.value = value;
      option.textContent = label;
      return option;
    })
  );
  select.value = layoutValue(current);
}
