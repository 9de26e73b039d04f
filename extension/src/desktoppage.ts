/**
 * The desktop-only server's page (miniswan-desktop-server, standalone/templates/page.html):
 * the desktop's state while it starts, Xpra's client once it runs, and the same keyboard,
 * clipboard and reconnect behaviour as the JupyterLab panel, from the same modules
 * (keyboard.ts, clipboard.ts, clientframe.ts + reconnect.ts). No JupyterLab here: the page
 * is a small bundle of its own (standalone.ts, built by webpack.page.config.js).
 *
 * The server's API, below the server's prefix: `GET api/status` (the desktop), `POST
 * api/restart`, and the keyboard API both servers share (keyboardapi.ts). Everything it needs
 * from outside (fetch, navigator, the document) is passed in, so jest drives it with fakes.
 */
import { ClientConnection } from './clientframe';
import { ClipboardIndicator, IClipboardNavigator } from './clipboard';
import {
  IKeyboardLayout,
  ILayoutInfo,
  INavigatorLike,
  applyWhenConnected,
  detectLayout,
  layoutValue,
  renderLayoutOptions
} from './keyboard';
import { KeyboardAPI, layoutToUse, pickLayout } from './keyboardapi';
import { probeWith } from './reconnect';

/** The desktop as `api/status` tells it. */
export interface IPageStatus {
  state: string;
  id?: string;
  layout?: string;
  variant?: string;
  reason?: string | null;
  log_tail?: string[];
  client_url?: string;
}

/** What the server writes into the page (`#miniswan-page-data`). */
export interface IPageData {
  status: IPageStatus;
  /** The Hub's XSRF token, sent with every request (the Hub's check of fetch calls). */
  xsrf: string;
}

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

export class DesktopPage {
  constructor(options: DesktopPage.IOptions) {
    this._doc = options.document;
    this._data = options.data;
    this._fetch = options.fetch;
    this._nav = options.navigator;
    this._status = options.data.status;
    this._keyboard = new KeyboardAPI((path, init) => this._send(path, init));
    this._iframe = this._$('client') as HTMLIFrameElement;
    this._select = this._$('keyboard-layout') as HTMLSelectElement;
    this._iframe.addEventListener('load', () => this._applyLayout());
    this._$('restart').addEventListener('click', () => void this._restart());
    this._select.addEventListener('change', () => void this._choose());
    const clipboard = this._doc.getElementById('clipboard');
    if (clipboard) {
      clipboard.replaceChildren(new ClipboardIndicator(this._nav).node);
    }
  }

  /** Show the desktop now, then follow it (poll), and set up the keyboard. */
  async start(): Promise<void> {
    this.show(this._status);
    this._poll();
    await this._initKeyboard();
  }

  get status(): IPageStatus {
    return this._status;
  }

  /** The client's URL for a desktop, with its keyboard layout. */
  clientUrl(status: IPageStatus): string {
    return `${status.client_url ?? ''}&keyboard_layout=${encodeURIComponent(
      status.layout || 'us'
    )}`;
  }

  /** Render a status from the server. */
  show(status: IPageStatus): void {
    this._status = status;
    const state = status.state;
    const label = this._$('state');
    label.textContent = state === 'starting' ? 'starting…' : state;
    label.className = `state state-${state}`;
    this._$('starting').hidden = state !== 'starting';
    const dead = state === 'failed' || state === 'stopped';
    this._$('dead').hidden = !dead;
    if (dead) {
      this._$('dead-state').textContent = state;
      this._$('reason').textContent = status.reason || 'no reason given';
      const log = status.log_tail ?? [];
      this._$('log').textContent = log.join('\n');
      this._$('log-box').hidden = !log.length;
    }
    if (state === 'running') {
      if (this._shownId !== status.id) {
        // a new desktop (first load, or after a restart): a new client and its watcher
        this._shownId = status.id ?? null;
        this._connection?.dispose();
        this._iframe.src = this.clientUrl(status);
        this._connection = this._watch();
      }
      this._followLayout(status);
      this._iframe.hidden = false;
    } else {
      // as the panel does: no client, no watcher (its overlay would cover the Restart button)
      this._iframe.hidden = true;
      if (dead && this._shownId !== null) {
        this._connection?.dispose();
        this._connection = null;
        delete this._iframe.parentElement?.dataset.connection;
        this._iframe.src = 'about:blank';
        this._shownId = null;
      }
    }
  }

  dispose(): void {
    this._disposed = true;
    window.clearTimeout(this._pollTimer);
    this._cancelApply();
    this._connection?.dispose();
  }

  /** Reconnect as the panel does (clientframe.ts), probing `api/status`. */
  private _watch(): ClientConnection {
    return new ClientConnection({
      iframe: this._iframe,
      host: this._iframe.parentElement ?? this._doc.body,
      clientUrl: () => this.clientUrl(this._status),
      probe: () => probeWith(init => this._send('api/status', init)),
      onState: state => {
        if (state === 'ended') {
          this._poll(0); // the status says why (stopped, failed)
        }
      }
    });
  }

  /**
   * Every request of the page: the Hub's cookie and XSRF token (the Hub refuses a script's
   * cookie-authenticated request without it: a probe without it stayed 403 for good).
   */
  private _send(path: string, init?: RequestInit): Promise<Response> {
    return this._fetch(path, {
      ...init,
      credentials: 'same-origin',
      headers: {
        ...(init?.headers as Record<string, string> | undefined),
        'X-XSRFToken': this._data.xsrf,
        Accept: 'application/json'
      }
    });
  }

  private async _request(method: string, path: string) {
    const response = await this._send(path, { method });
    const data = await response.json();
    if (!response.ok) {
      throw new Error(data?.message || response.statusText);
    }
    return data;
  }

  private _poll(delay?: number): void {
    window.clearTimeout(this._pollTimer);
    const wait = delay ?? (this._status.state === 'running' ? 3000 : 1000);
    this._pollTimer = window.setTimeout(async () => {
      if (this._disposed) {
        return;
      }
      try {
        this.show(await this._request('GET', 'api/status'));
      } catch (error) {
        this._$('state').textContent = `unknown (${(error as Error).message})`;
      }
      this._poll();
    }, wait);
  }

  private async _restart(): Promise<void> {
    const button = this._$('restart') as HTMLButtonElement;
    button.disabled = true;
    this._$('restart-error').textContent = '';
    try {
      this.show(await this._request('POST', 'api/restart'));
    } catch (error) {
      this._$('restart-error').textContent = (error as Error).message;
    } finally {
      button.disabled = false;
    }
  }

  // ---- keyboard (docs/keyboard.md): the saved choice, else what the browser says ----

  private async _initKeyboard(): Promise<void> {
    this._layouts = await this._keyboard.layouts();
    this._renderLayouts();
    // the user's kept choice (the desktop started with it), else the browser's keyboard
    const { switchTo } = await layoutToUse(
      await this._keyboard.choice(),
      () => detectLayout(this._nav),
      this._current()
    );
    if (switchTo) {
      await this._switch(switchTo).catch(() => undefined);
    }
  }

  /** The user picked a layout, or Automatic (keyboardapi.ts's pickLayout). */
  private async _choose(): Promise<void> {
    try {
      await pickLayout(
        this._keyboard,
        this._select.value,
        () => detectLayout(this._nav),
        value => this._switch(value)
      );
    } catch (error) {
      this._renderLayouts(true); // back to the layout in use
      window.alert(`Keyboard layout: ${(error as Error).message}`);
    }
  }

  private async _switch(value: IKeyboardLayout): Promise<void> {
    if (!this._status.id) {
      throw new Error('the desktop is not running');
    }
    this.show(
      await this._keyboard.switchDesktop<IPageStatus>(this._status.id, value)
    );
  }

  private _current(): IKeyboardLayout {
    return {
      layout: this._status.layout || 'us',
      variant: this._status.variant ?? ''
    };
  }

  /**
   * The selector's options for the layout in use. Every status poll (3 s) passes here:
   * rebuilt each time, the options would close a list the user has open, so they are
   * rebuilt only when the layout in use or the server's layouts changed, or when `force`d
   * (the selector shows a pick that did not happen).
   */
  private _renderLayouts(force = false): void {
    const current = layoutValue(this._current());
    if (
      !force &&
      current === this._renderedLayout &&
      this._layouts === this._renderedLayouts
    ) {
      return;
    }
    renderLayoutOptions(this._select, this._layouts, this._current());
    this._renderedLayout = current;
    this._renderedLayouts = this._layouts;
  }

  /** A status from the server: show its layout, switch the client if it changed. */
  private _followLayout(status: IPageStatus): void {
    if (!status.layout) {
      return;
    }
    this._renderLayouts();
    if (layoutValue(this._current()) !== this._applied) {
      this._applyLayout();
    }
  }

  /** Keep the running client on the desktop's layout (after each load, each change). */
  private _applyLayout(): void {
    if (this._status.state !== 'running') {
      return;
    }
    this._cancelApply();
    const value = this._current();
    this._applied = layoutValue(value);
    this._cancelApply = applyWhenConnected(() => this._iframe, value);
  }

  private _$(id: string): HTMLElement {
    const node = this._doc.getElementById(id);
    if (!node) {
      throw new Error(`the page has no #${id}`);
    }
    return node;
  }

  private _doc: Document;
  private _data: IPageData;
  private _fetch: Fetch;
  private _nav: INavigatorLike & IClipboardNavigator;
  private _status: IPageStatus;
  private _keyboard: KeyboardAPI;
  private _iframe: HTMLIFrameElement;
  private _select: HTMLSelectElement;
  private _layouts: ILayoutInfo[] = [];
  private _shownId: string | null = null;
  private _connection: ClientConnection | null = null;
  private _applied = '';
  private _cancelApply: () => void = () => undefined;
  private _pollTimer = 0;
  private _renderedLayout = '';
  private _renderedLayouts: ILayoutInfo[] | null = null;
  private _disposed = false;
}

export namespace DesktopPage {
  export interface IOptions {
    document: Document;
    data: IPageData;
    fetch: Fetch;
    navigator: INavigatorLike & IClipboardNavigator;
  }
}
