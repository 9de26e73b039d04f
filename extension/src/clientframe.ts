/**
 * The connection of one Xpra client iframe, watched and shown: a "Reconnecting…" overlay
 * over the client while its connection is down, "session ended" when the desktop is gone.
 *
 * The client is same-origin (served through the Jupyter server), so the page can see where
 * it is (its index.html, or the connect.html it navigates to when it gives up) and listen
 * to the `connection-lost` / `connection-established` events it dispatches on its document.
 */
import { ConnectionState, ProbeResult, Reconnector } from './reconnect';

export class ClientConnection {
  constructor(options: ClientConnection.IOptions) {
    this._iframe = options.iframe;
    this._host = options.host;
    this._onState = options.onState;

    this._overlay = document.createElement('div');
    this._overlay.className = 'miniswan-DesktopReconnect';
    this._overlay.hidden = true;
    this._overlay.setAttribute('role', 'status');
    this._message = document.createElement('p');
    this._message.className = 'miniswan-DesktopReconnect-message';
    this._retry = document.createElement('button');
    this._retry.type = 'button';
    this._retry.className = 'jp-Button jp-mod-styled jp-mod-accept';
    this._retry.textContent = 'Retry now';
    this._retry.addEventListener('click', () => this.reconnector.retryNow());
    this._overlay.append(this._message, this._retry);
    this._host.append(this._overlay);

    this.reconnector = new Reconnector({
      probe: options.probe,
      reload: () => {
        this._iframe.src = options.clientUrl();
      },
      onChange: state => this._show(state)
    });
    this._onLoad = () => this._watchFrame();
    this._iframe.addEventListener('load', this._onLoad);
    this._show(this.reconnector.state);
  }

  readonly reconnector: Reconnector;

  get state(): ConnectionState {
    return this.reconnector.state;
  }

  dispose(): void {
    this.reconnector.dispose();
    this._iframe.removeEventListener('load', this._onLoad);
    this._overlay.remove();
  }

  /** A page loaded in the iframe: the client, or connect.html (it gave up). */
  private _watchFrame(): void {
    let win: Window | null = null;
    try {
      win = this._iframe.contentWindow;
      void win?.location.pathname; // throws if not our origin
    } catch {
      return; // not our origin: nothing to look at
    }
    if (!win) {
      return;
    }
    if (win.location.pathname.endsWith('/connect.html')) {
      this.reconnector.lost(true);
      return;
    }
    const doc = win.document;
    doc.addEventListener('connection-established', () =>
      this.reconnector.established()
    );
    doc.addEventListener('connection-lost', () => this.reconnector.lost(false));
  }

  private _show(state: ConnectionState): void {
    this._host.dataset.connection = state;
    const down = state === 'reconnecting' || state === 'ended';
    this._overlay.hidden = !down;
    this._retry.hidden = state !== 'reconnecting';
    if (state === 'reconnecting') {
      const since = this.reconnector?.lostSince;
      const seconds = since ? Math.round((Date.now() - since) / 1000) : 0;
      this._message.textContent =
        seconds >= 60
          ? `Connection lost ${Math.round(seconds / 60)} min ago: still trying to reconnect (the server may be unreachable)…`
          : 'Connection lost: reconnecting to the same desktop…';
    } else if (state === 'ended') {
      this._message.textContent =
        'The desktop’s session has ended: it was stopped or failed.';
    }
    this._onState?.(state);
  }

  private _iframe: HTMLIFrameElement;
  private _host: HTMLElement;
  private _overlay: HTMLElement;
  private _message: HTMLElement;
  private _retry: HTMLButtonElement;
  private _onLoad: () => void;
  private _onState?: (state: ConnectionState) => void;
}

export namespace ClientConnection {
  export interface IOptions {
    iframe: HTMLIFrameElement;
    /** Where the overlay goes (the iframe's parent, positioned). */
    host: HTMLElement;
    /** The client URL to load again. */
    clientUrl: () => string;
    /** Look at the desktop (see `probeDesktop`). */
    probe: () => Promise<ProbeResult>;
    onState?: (state: ConnectionState) => void;
  }
}
