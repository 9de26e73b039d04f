/**
 * Clipboard access as the toolbar shows it, with fake `navigator` objects (the real
 * browser is exercised by the e2e suite).
 */
import {
  ClipboardIndicator,
  IClipboardNavigator,
  clipboardAccess,
  clipboardHint
} from '../clipboard';

function fakeNavigator(state: string | Error, readText = true) {
  const status = { state: state instanceof Error ? '' : state, onchange: null };
  const nav: IClipboardNavigator = {
    clipboard: readText ? { readText: jest.fn(async () => 'x') } : {},
    permissions: {
      query: jest.fn(async () => {
        if (state instanceof Error) {
          throw state;
        }
        return status;
      })
    }
  };
  return { nav, status };
}

describe('clipboardAccess', () => {
  it.each([
    ['granted', 'granted'],
    ['denied', 'denied'],
    ['prompt', 'prompt']
  ])('permission %s -> %s', async (state, access) => {
    expect(await clipboardAccess(fakeNavigator(state).nav)).toBe(access);
  });

  it('an unknown permission name (Firefox) means the browser asks', async () => {
    const { nav } = fakeNavigator(new TypeError('unknown permission'));
    expect(await clipboardAccess(nav)).toBe('prompt');
  });

  it('no readText means copy and paste events only', async () => {
    expect(await clipboardAccess(fakeNavigator('granted', false).nav)).toBe(
      'unsupported'
    );
  });

  it('reports permission changes', async () => {
    const { nav, status } = fakeNavigator('prompt');
    const seen: string[] = [];
    await clipboardAccess(nav, a => seen.push(a));
    status.state = 'granted';
    (status.onchange as any)();
    expect(seen).toEqual(['granted']);
  });
});

describe('ClipboardIndicator', () => {
  it('shows the state and asks for the permission on click', async () => {
    const { nav, status } = fakeNavigator('prompt');
    const widget = new ClipboardIndicator(nav);
    await widget.refresh();
    expect(widget.node.dataset.clipboard).toBe('prompt');
    expect(widget.node.textContent).toBe(clipboardHint('prompt').label);
    status.state = 'granted';
    widget.node.click();
    for (let i = 0; i < 5; i++) {
      await Promise.resolve();
    }
    expect(nav.clipboard?.readText).toHaveBeenCalled();
    expect(widget.node.dataset.clipboard).toBe('granted');
    expect(widget.node.title).toMatch(/paste/);
  });

  it('every state has a label and an explanation', () => {
    for (const a of ['granted', 'prompt', 'denied', 'unsupported'] as const) {
      const { label, title } = clipboardHint(a);
      expect(label.length).toBeGreaterThan(0);
      expect(title.length).toBeGreaterThan(20);
    }
  });
});
