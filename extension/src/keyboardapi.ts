/**
 * The keyboard's REST API (miniswan_desktop/keyboard_api.py), the same on both servers and
 * used the same way by the JupyterLab panel (index.ts, keyboardcontrol.ts) and the
 * desktop-only page (desktoppage.ts): the layouts, the user's kept choice, switching a
 * running desktop. Each page only says how a request is sent (`Send`): through
 * JupyterLab's ServerConnection, or `fetch` with the Hub's XSRF token. No JupyterLab here.
 */
import {
  AUTOMATIC,
  IKeyboardLayout,
  ILayoutInfo,
  layoutValue,
  parseLayoutValue
} from './keyboard';

export const LAYOUTS_PATH = 'desktops/api/keyboard-layouts';
export const KEYBOARD_PATH = 'desktops/api/keyboard';
export const DESKTOPS_PATH = 'desktops/api/desktops';

/** Send a request to a path below the server's URL. */
export type Send = (path: string, init?: RequestInit) => Promise<Response>;

/** The user's kept layout; `saved` false when they never chose one. */
export interface IKeyboardChoice extends IKeyboardLayout {
  saved: boolean;
}

const JSON_BODY = { 'Content-Type': 'application/json' };

export class KeyboardAPI {
  constructor(send: Send) {
    this._send = send;
  }

  /** The layouts the server knows (empty if it cannot say). */
  async layouts(): Promise<ILayoutInfo[]> {
    try {
      const data = await this._json(LAYOUTS_PATH);
      return Array.isArray(data) ? data : [];
    } catch {
      return [];
    }
  }

  /** The user's kept layout (none kept if the server cannot say). */
  async choice(): Promise<IKeyboardChoice> {
    try {
      const data = await this._json(KEYBOARD_PATH);
      return {
        layout: String(data?.layout ?? ''),
        variant: String(data?.variant ?? ''),
        saved: Boolean(data?.saved)
      };
    } catch {
      return { layout: '', variant: '', saved: false };
    }
  }

  /** Keep `value` as the user's layout; throws with the server's message if refused. */
  async keep(value: IKeyboardLayout): Promise<IKeyboardChoice> {
    return this._json(KEYBOARD_PATH, {
      method: 'PUT',
      headers: JSON_BODY,
      body: JSON.stringify({ layout: value.layout, variant: value.variant })
    });
  }

  /** Forget the kept layout: new desktops take the browser's keyboard again. */
  async forget(): Promise<IKeyboardChoice> {
    return this._json(KEYBOARD_PATH, { method: 'DELETE' });
  }

  /** Switch a running desktop to `value`; the server's answer (the desktop). */
  async switchDesktop<T>(
    desktopId: string,
    value: IKeyboardLayout
  ): Promise<T> {
    return this._json(`${DESKTOPS_PATH}/${encodeURIComponent(desktopId)}`, {
      method: 'PATCH',
      headers: JSON_BODY,
      body: JSON.stringify({ layout: value.layout, variant: value.variant })
    });
  }

  private async _json(path: string, init?: RequestInit): Promise<any> {
    const response = await this._send(path, init);
    const data = await response.json().catch(() => undefined);
    if (!response.ok) {
      throw new Error(data?.message || response.statusText);
    }
    return data;
  }

  private _send: Send;
}

/**
 * The layout to use: the user's kept choice, else the keyboard the browser reports.
 * `switchTo` is the layout to switch a running desktop to (undefined: it has it already).
 */
export async function layoutToUse(
  choice: IKeyboardChoice,
  detected: () => Promise<IKeyboardLayout>,
  running?: IKeyboardLayout
): Promise<{ value: IKeyboardLayout; switchTo?: IKeyboardLayout }> {
  const value: IKeyboardLayout =
    choice.saved && choice.layout
      ? { layout: choice.layout, variant: choice.variant }
      : await detected();
  const differs = running && layoutValue(running) !== layoutValue(value);
  return { value, switchTo: differs ? value : undefined };
}

/**
 * What a user's pick in a layout selector does, in the panel and on the page alike: a
 * layout switches the desktop (`switchTo`) and is kept as the user's choice; AUTOMATIC
 * forgets the kept one and switches the desktop to the browser's keyboard. Returns the
 * layout the desktop was switched to.
 */
export async function pickLayout(
  api: KeyboardAPI,
  picked: string,
  detected: () => Promise<IKeyboardLayout>,
  switchTo: (value: IKeyboardLayout) => Promise<unknown>
): Promise<IKeyboardLayout> {
  if (picked === AUTOMATIC) {
    await api.forget();
    const value = await detected();
    await switchTo(value);
    return value;
  }
  const value = parseLayoutValue(picked);
  await switchTo(value);
  await api.keep(value);
  return value;
}
