/**
 * The main-area panel of one desktop: a "starting…" placeholder until the desktop is
 * running, then an iframe of the Xpra HTML5 client.
 */
import { CommandToolbarButton, MainAreaWidget } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { ClientConnection } from './clientframe';
import { ClipboardIndicator } from './clipboard';
import { desktopIcon } from './icons';
import { DesktopModel } from './model';
import { probeDesktop } from './request';
import { CommandIDs, IDesktop } from './tokens';

/** What the panel shows: a desktop state, or `unknown` before the first listing. */
export type PanelState = IDesktop['state'] | 'unknown';

/** The content: status text or the client iframe. */
export class DesktopView extends Widget {
  constructor(options: DesktopView.IOptions) {
    super();
    this.addClass('miniswan-DesktopView');
    this.desktopId = options.desktopId;
    this._model = options.model;
    this._clientUrl = options.clientUrl;

    this._status = document.createElement('div');
    this._status.className = 'miniswan-DesktopStatus';
    this._host = document.createElement('div');
    // jp-IFrame: JupyterLab covers it while dragging so the iframe does not eat events
    this._host.className = 'jp-IFrame miniswan-DesktopFrameHost';
    this.node.append(this._status, this._host);

    this._model.changed.connect(this.update, this);
    void this._model.ready.then(() => {
      this._loaded = true;
      this.update();
    });
  }

  readonly desktopId: string;

  /** The current state shown. */
  get state(): PanelState {
    const desktop = this._model.get(this.desktopId);
    if (desktop) {
      return desktop.state;
    }
    if (this._model.isForgotten(this.desktopId) || this._loaded) {
      return 'stopped';
    }
    return 'unknown';
  }

  /** The client iframe, once the desktop runs. */
  get iframe(): HTMLIFrameElement | null {
    return this._iframe;
  }

  /** The desktop, while the server has it. */
  get desktop(): IDesktop | undefined {
    return this._model.get(this.desktopId);
  }

  /** Emitted after each render with the state shown. */
  get rendered(): ISignal<this, PanelState> {
    return this._rendered;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.changed.disconnect(this.update, this);
    this._connection?.dispose();
    super.dispose();
  }

  protected onUpdateRequest(msg: Message): void {
    this.render();
  }

  protected onActivateRequest(msg: Message): void {
    (this._iframe ?? this.node).focus();
  }

  /** Show the state; load the client when running, drop it when no longer running. */
  render(): void {
    const desktop = this._model.get(this.desktopId);
    const state = this.state;
    const name = desktop?.name ?? this.desktopId;
    this.node.dataset.state = state;
    if (state === 'running' && desktop) {
      if (!this._iframe) {
        const iframe = document.createElement('iframe');
        iframe.className = 'miniswan-DesktopFrame';
        iframe.title = name;
        iframe.setAttribute(
          'allow',
          'clipboard-read; clipboard-write; fullscreen'
        );
        iframe.src = this._clientUrl(desktop);
        this._host.append(iframe);
        this._iframe = iframe;
        this._connection = this._watchConnection(iframe);
      }
      this._status.replaceChildren();
      this._status.hidden = true;
    } else {
      if (this._iframe) {
        this._connection?.dispose();
        this._connection = null;
        delete this.node.dataset.connection;
        this._iframe.remove();
        this._iframe = null;
      }
      this._status.hidden = false;
      this._status.replaceChildren(...statusContent(state, name, desktop));
    }
    this._rendered.emit(state);
  }

  /**
   * Reconnect the client when its connection drops (see reconnect.ts): a "Reconnecting…"
   * overlay, probes of the desktop through the REST API, a reload once it answers;
   * `data-connection` on this node says where it stands.
   */
  private _watchConnection(iframe: HTMLIFrameElement): ClientConnection {
    const settings = ServerConnection.makeSettings();
    return new ClientConnection({
      iframe,
      host: this._host,
      clientUrl: () => {
        const desktop = this._model.get(this.desktopId);
        return desktop ? this._clientUrl(desktop) : iframe.src;
      },
      probe: () => probeDesktop(settings, this.desktopId),
      onState: state => {
        this.node.dataset.connection = state;
        if (state === 'ended') {
          // the model learns why (stopped, failed, forgotten); render() shows it
          void this._model.fetch(this.desktopId).catch(() => undefined);
        }
      }
    });
  }

  private _model: DesktopModel;
  private _clientUrl: (desktop: IDesktop) => string;
  private _status: HTMLElement;
  private _host: HTMLElement;
  private _iframe: HTMLIFrameElement | null = null;
  private _connection: ClientConnection | null = null;
  private _loaded = false;
  private _rendered = new Signal<this, PanelState>(this);
}

function statusContent(
  state: PanelState,
  name: string,
  desktop: IDesktop | undefined
): Node[] {
  const title = document.createElement('p');
  title.className = 'miniswan-DesktopStatus-title';
  switch (state) {
    case 'unknown':
      title.textContent = 'Looking for the desktop…';
      return [title];
    case 'starting':
      title.textContent = `Starting “${name}”…`;
      return [title];
    case 'stopped':
      title.textContent = desktop?.app
        ? `“${name}” has ended.`
        : `“${name}” was shut down.`;
      return [title];
    default: {
      title.textContent = `“${name}” failed.`;
      const nodes: Node[] = [title];
      if (desktop?.reason) {
        const reason = document.createElement('p');
        reason.className = 'miniswan-DesktopStatus-reason';
        reason.textContent = desktop.reason;
        nodes.push(reason);
      }
      if (desktop?.log_tail?.length) {
        const log = document.createElement('pre');
        log.className = 'miniswan-DesktopStatus-log';
        log.textContent = desktop.log_tail.join('\n');
        nodes.push(log);
      }
      return nodes;
    }
  }
}

export namespace DesktopView {
  export interface IOptions {
    desktopId: string;
    model: DesktopModel;
    /** The Xpra client URL for a desktop (parameters included). */
    clientUrl: (desktop: IDesktop) => string;
  }
}

/**
 * The main-area panel: class `miniswan-DesktopPanel`, `data-desktop-id` and
 * `data-state` attributes, a toolbar to open the desktop in a browser tab.
 */
export class DesktopPanel extends MainAreaWidget<DesktopView> {
  constructor(options: DesktopPanel.IOptions) {
    const content = new DesktopView(options);
    super({ content });
    this.addClass('miniswan-DesktopPanel');
    this.id = `miniswan-desktop-${options.desktopId}`;
    this.node.dataset.desktopId = options.desktopId;
    this._icon = options.icon ?? (() => desktopIcon);
    this.title.icon = this._icon(options.model.get(options.desktopId));
    this.title.closable = true;
    for (const [name, id] of [
      ['open-tab', CommandIDs.openTab],
      ['shutdown', CommandIDs.shutdown]
    ]) {
      this.toolbar.addItem(
        name,
        new CommandToolbarButton({
          commands: options.commands,
          id,
          args: { id: options.desktopId, toolbar: true }
        })
      );
    }
    // whether the desktop may use the browser's clipboard (clipboard.ts)
    this.toolbar.addItem(
      'clipboard',
      new Widget({ node: new ClipboardIndicator().node })
    );
    content.rendered.connect((_, state) => this._onState(state));
    content.render();
  }

  get desktopId(): string {
    return this.content.desktopId;
  }

  private _onState(state: PanelState): void {
    this.node.dataset.state = state;
    const desktop = this.content.desktop;
    if (desktop?.app) {
      this.node.dataset.app = desktop.app;
    }
    this.title.icon = this._icon(desktop);
    const name = desktop?.name ?? this.desktopId;
    this.title.label = name;
    this.title.caption = `${name} (${state === 'unknown' ? '…' : state})`;
    this.title.className = `miniswan-DesktopTab miniswan-mod-${state}`;
  }

  private _icon: (desktop: IDesktop | undefined) => LabIcon;
}

export namespace DesktopPanel {
  export interface IOptions extends DesktopView.IOptions {
    commands: CommandRegistry;
    /** The tab's icon for a desktop (an application's own); default: the desktop icon. */
    icon?: (desktop: IDesktop | undefined) => LabIcon;
  }
}
