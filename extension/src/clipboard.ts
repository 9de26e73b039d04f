/**
 * Whether the desktop can use the browser's clipboard, made visible in the panel's toolbar.
 *
 * Xpra's HTML5 client shares the clipboard both ways through the async Clipboard API: it
 * writes what an X application copies with `navigator.clipboard.writeText`, and reads the
 * browser's clipboard (`readText`) on each click and key press in the desktop. Reading needs
 * the `clipboard-read` permission; without it the browser either asks (once, on a click) or
 * refuses silently. So the toolbar says which case applies, and its button asks for the
 * permission inside a click, where the browser allows the prompt. Plain DOM: the panel puts
 * the button in its toolbar, the desktop-only page in its header.
 */
/**
 * `granted`: shared both ways. `prompt`: the browser will ask (the button asks now).
 * `denied`: blocked in the site settings. `unsupported`: no async clipboard (some Firefox
 * and Safari versions): Ctrl+C / Ctrl+V through the browser's own copy and paste events.
 */
export type ClipboardAccess = 'granted' | 'prompt' | 'denied' | 'unsupported';

/** The parts of `navigator` used here (a parameter, so tests can fake it). */
export interface IClipboardNavigator {
  clipboard?: { readText?: () => Promise<string> };
  permissions?: {
    query(descriptor: { name: string }): Promise<{
      state: string;
      onchange: ((this: any, ev: Event) => any) | null;
    }>;
  };
}

/** What the browser allows now; `onChange` is called when the permission changes. */
export async function clipboardAccess(
  nav: IClipboardNavigator = navigator as unknown as IClipboardNavigator,
  onChange?: (access: ClipboardAccess) => void
): Promise<ClipboardAccess> {
  if (!nav.clipboard?.readText) {
    return 'unsupported';
  }
  if (!nav.permissions) {
    return 'prompt';
  }
  try {
    // Firefox and Safari do not know this permission name: they ask on each paste
    const status = await nav.permissions.query({ name: 'clipboard-read' });
    if (onChange) {
      status.onchange = () => onChange(accessFor(status.state));
    }
    return accessFor(status.state);
  } catch {
    return 'prompt';
  }
}

function accessFor(state: string): ClipboardAccess {
  return state === 'granted' || state === 'denied' ? state : 'prompt';
}

/** The toolbar's label and tooltip for each case. */
export function clipboardHint(access: ClipboardAccess): {
  label: string;
  title: string;
} {
  switch (access) {
    case 'granted':
      return {
        label: 'Clipboard shared',
        title:
          'Copy in the desktop, paste in the browser, and back: the desktop reads the ' +
          'browser’s clipboard when you click or type in it.'
      };
    case 'prompt':
      return {
        label: 'Allow clipboard',
        title:
          'Click to let the desktop use the browser’s clipboard (the browser asks once). ' +
          'Until then, text copied here does not reach the desktop.'
      };
    case 'denied':
      return {
        label: 'Clipboard blocked',
        title:
          'The browser blocks clipboard access for this site: allow “Clipboard” in the ' +
          'site settings (the icon left of the address), then reload the page.'
      };
    default:
      return {
        label: 'Clipboard: Ctrl+C / Ctrl+V',
        title:
          'This browser lets pages use the clipboard only during copy and paste: press ' +
          'Ctrl+V in the desktop to send the browser’s clipboard, Ctrl+C to take the ' +
          'desktop’s.'
      };
  }
}

/**
 * `button.miniswan-ClipboardButton[data-clipboard=<access>]`. A click asks for the
 * permission (a `readText()` inside the click), then shows the new state.
 */
export class ClipboardIndicator {
  constructor(nav?: IClipboardNavigator) {
    const button = document.createElement('button');
    this.node = button;
    this._nav = nav ?? (navigator as unknown as IClipboardNavigator);
    button.type = 'button';
    button.classList.add(
      'jp-ToolbarButtonComponent',
      'miniswan-ClipboardButton'
    );
    button.addEventListener('click', () => void this._ask());
    this._show('prompt');
    void this.refresh();
  }

  readonly node: HTMLButtonElement;

  get access(): ClipboardAccess {
    return this._access;
  }

  /** Look at the permission again. */
  async refresh(): Promise<void> {
    this._show(await clipboardAccess(this._nav, access => this._show(access)));
  }

  private async _ask(): Promise<void> {
    if (this._access === 'prompt' && this._nav.clipboard?.readText) {
      try {
        await this._nav.clipboard.readText();
      } catch {
        // refused, or the document lost focus: refresh() tells which
      }
    }
    await this.refresh();
  }

  private _show(access: ClipboardAccess): void {
    this._access = access;
    const { label, title } = clipboardHint(access);
    this.node.dataset.clipboard = access;
    this.node.textContent = label;
    this.node.title = title;
  }

  private _nav: IClipboardNavigator;
  private _access: ClipboardAccess = 'prompt';
}
