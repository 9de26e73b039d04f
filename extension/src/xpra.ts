/**
 * The Xpra HTML5 client's URL parameters, in one place: client-params.json (each with why),
 * which the server's desktop-only page reads too (miniswan_desktop/client_page.py).
 */
import clientParams from './client-params.json';
import { layoutForLanguage } from './keyboard';

/** Parameters passed on every client URL. */
export const XPRA_CLIENT_PARAMS: Readonly<Record<string, string>> = (() => {
  const params: Record<string, string> = {};
  for (const [name, [value]] of Object.entries(clientParams.params)) {
    params[name] = value;
  }
  return params;
})();

/**
 * The X keyboard layout for a browser language tag, `us` when unknown (the table is
 * in keyboard.ts, with detection from the browser's layout map).
 */
export const keyboardLayoutFor = layoutForLanguage;

/**
 * The client URL for a desktop, with the parameters.
 *
 * With `clientUrl` (the server's cached copy of the client, `desktop.client_url`), the page
 * comes from there and its websocket goes to the desktop (`path`); without, the page is
 * the desktop's own Xpra's: `desktop.url` plus `index.html`.
 *
 * @param desktopUrl the desktop's `url` (a path under the server, or absolute)
 * @param keyboardLayout an X keyboard layout; empty for the browser language's
 * @param language the browser language (defaults to `navigator.language`)
 * @param clientUrl the server's client page (`desktop.client_url`), if it serves one
 */
export function xpraClientUrl(
  desktopUrl: string,
  keyboardLayout = '',
  language?: string,
  clientUrl = ''
): string {
  const base = desktopUrl.endsWith('/') ? desktopUrl : `${desktopUrl}/`;
  const params = new URLSearchParams({
    ...XPRA_CLIENT_PARAMS,
    keyboard_layout:
      keyboardLayout ||
      keyboardLayoutFor(
        language ??
          (typeof navigator !== 'undefined' ? navigator.language : undefined)
      )
  });
  if (!clientUrl) {
    return `${base}index.html?${params.toString()}`;
  }
  // the client opens its websocket at ws(s)://<this host and port><path>
  params.set('path', new URL(base, 'http://localhost').pathname);
  return `${clientUrl}?${params.toString()}`;
}

/** Smallest and largest screen the server accepts by default. */
export const MIN_GEOMETRY = [320, 200] as const;
export const MAX_GEOMETRY = [3840, 2160] as const;

/**
 * A `WxH` screen size for `width` x `height` CSS pixels, clamped to the server's
 * default limits and rounded down to even numbers.
 */
export function fitGeometry(width: number, height: number): string {
  const clamp = (v: number, lo: number, hi: number) =>
    Math.min(hi, Math.max(lo, Math.floor(v / 2) * 2));
  return `${clamp(width, MIN_GEOMETRY[0], MAX_GEOMETRY[0])}x${clamp(
    height,
    MIN_GEOMETRY[1],
    MAX_GEOMETRY[1]
  )}`;
}

/**
 * The screen size to ask for: this display's size. Xpra 3.1 shrinks the X screen to a
 * smaller client window (a panel) but cannot grow it: a browser window larger than the
 * screen stays grey. The display's size bounds every window, full screen included.
 */
export function screenGeometry(
  screen: { width: number; height: number } | undefined = typeof window !==
  'undefined'
    ? window.screen
    : undefined
): string | undefined {
  if (!screen || !screen.width || !screen.height) {
    return undefined;
  }
  return fitGeometry(screen.width, screen.height);
}
