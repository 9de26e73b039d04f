/**
 * The JupyterLab panel's keyboard control: the toolbar's layout selector (a Lumino widget),
 * the switch (PATCH) and the kept choice (PUT) when the user picks a layout, and the running client kept
 * on the desktop's layout. The rules it applies are keyboard.ts's, shared with the
 * desktop-only page.
 */
import { ISignal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import {
  IKeyboardLayout,
  ILayoutInfo,
  applyWhenConnected,
  layoutValue,
  renderLayoutOptions
} from './keyboard';
import { KeyboardAPI, pickLayout } from './keyboardapi';

/**
 * The toolbar's layout selector: a `<select>` of the server's layouts (common ones
 * first) that calls `onChange` with the user's choice.
 */
export class LayoutSelector extends Widget {
  constructor(options: LayoutSelector.IOptions) {
    super({ node: document.createElement('label') });
    this.addClass('miniswan-KeyboardLayout');
    this.node.title = 'Keyboard layout of this desktop';
    const text = document.createElement('span');
    text.className = 'miniswan-KeyboardLayout-label';
    text.textContent = 'Keyboard';
    this._select = document.createElement('select');
    this._select.className = 'jp-mod-styled miniswan-KeyboardLayout-select';
    this._select.addEventListener('change', () => {
      void options.onChange(this._select.value);
    });
    this.node.append(text, this._select);
    this._layouts = options.layouts;
    this.value = options.value;
    void options.layouts.then(() => this._render());
  }

  /** The layout shown. */
  get value(): IKeyboardLayout {
    return this._current;
  }

  set value(value: IKeyboardLayout) {
    this._current = value;
    this._render();
  }

  private _render(): void {
    void this._layouts.then(layouts =>
      renderLayoutOptions(this._select, layouts, this._current)
    );
  }

  private _select: HTMLSelectElement;
  private _layouts: Promise<ILayoutInfo[]>;
  private _current: IKeyboardLayout = { layout: 'us', variant: '' };
}

export namespace LayoutSelector {
  export interface IOptions {
    value: IKeyboardLayout;
    layouts: Promise<ILayoutInfo[]>;
    /** The option picked: a layout value (`de:nodeadkeys`) or AUTOMATIC. */
    onChange: (picked: string) => void | Promise<void>;
  }
}

/** What the panel's keyboard control needs from the desktop view (panel.ts). */
export interface IKeyboardView {
  readonly desktopId: string;
  readonly iframe: HTMLIFrameElement | null;
  readonly rendered: ISignal<any, any>;
  readonly disposed: ISignal<any, void>;
}

/** The desktops' layouts as the model has them, and a way to change one. */
export interface IKeyboardModel {
  readonly changed: ISignal<any, void>;
  get(id: string): { layout?: string; variant?: string } | undefined;
  setLayout(id: string, layout: string, variant?: string): Promise<unknown>;
}

/**
 * The keyboard part of each desktop panel: the toolbar selector, the PATCH and the saved
 * setting when the user picks a layout, and the running client kept on the desktop's
 * layout (after each load of the client, and when the layout changes elsewhere).
 */
export class KeyboardControl {
  constructor(options: KeyboardControl.IOptions) {
    this._model = options.model;
    this._layouts = options.layouts;
    this._api = options.api;
    this._detected = options.detected;
  }

  /** The toolbar item for one desktop view. */
  attach(view: IKeyboardView): LayoutSelector {
    const current = (): IKeyboardLayout => {
      const desktop = this._model.get(view.desktopId);
      return {
        layout: desktop?.layout || 'us',
        variant: desktop?.variant ?? ''
      };
    };
    let applied = '';
    let frame: HTMLIFrameElement | null = null;
    let cancel = () => {};
    const apply = () => {
      cancel();
      applied = layoutValue(current());
      cancel = applyWhenConnected(() => view.iframe, current());
    };
    const selector = new LayoutSelector({
      value: current(),
      layouts: this._layouts(),
      onChange: async picked => {
        try {
          selector.value = await pickLayout(
            this._api,
            picked,
            this._detected,
            value =>
              this._model.setLayout(view.desktopId, value.layout, value.variant)
          );
        } catch (error) {
          console.warn('miniswan-desktop: could not change the layout', error);
          selector.value = current();
        }
      }
    });
    const onLoad = () => apply();
    const onRendered = () => {
      if (view.iframe !== frame) {
        frame?.removeEventListener('load', onLoad);
        frame = view.iframe;
        frame?.addEventListener('load', onLoad);
      }
    };
    const onChanged = () => {
      const value = current();
      if (layoutValue(value) !== layoutValue(selector.value)) {
        selector.value = value;
      }
      if (frame && layoutValue(value) !== applied) {
        apply();
      }
    };
    view.rendered.connect(onRendered);
    this._model.changed.connect(onChanged);
    view.disposed.connect(() => {
      cancel();
      frame?.removeEventListener('load', onLoad);
      this._model.changed.disconnect(onChanged);
    });
    onRendered();
    return selector;
  }

  private _model: IKeyboardModel;
  private _layouts: () => Promise<ILayoutInfo[]>;
  private _api: KeyboardAPI;
  private _detected: () => Promise<IKeyboardLayout>;
}

export namespace KeyboardControl {
  export interface IOptions {
    model: IKeyboardModel;
    /** The server's layouts (fetched once, shared by the panels). */
    layouts: () => Promise<ILayoutInfo[]>;
    /** The keyboard API: keeps or forgets the user's choice (keyboardapi.ts). */
    api: KeyboardAPI;
    /** The browser's keyboard, for AUTOMATIC. */
    detected: () => Promise<IKeyboardLayout>;
  }
}
