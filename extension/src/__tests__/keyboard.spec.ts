import {
  ILayoutInfo,
  KeyMap,
  applyToClient,
  detectLayout,
  layoutForLanguage,
  layoutFromKeyMap,
  layoutOptions,
  parseLayoutValue,
  layoutValue
} from '../keyboard';

describe('layoutForLanguage', () => {
  it.each([
    ['en-US', 'us'],
    ['en', 'us'],
    ['en-GB', 'gb'],
    ['en-AU', 'us'],
    ['en-IN', 'us'], // `in` is an Indic layout, not India's English keyboards
    ['en-CA', 'us'],
    ['fr-CA', 'ca'],
    ['en-CH', 'ch'],
    ['de', 'de'],
    ['de-DE', 'de'],
    ['de-AT', 'at'],
    ['de-CH', 'ch'],
    ['fr', 'fr'],
    ['fr-FR', 'fr'],
    ['fr-BE', 'be'],
    ['nl-BE', 'be'],
    ['it-IT', 'it'],
    ['sv-SE', 'se'],
    ['nb-NO', 'no'],
    ['da', 'dk'],
    ['cs-CZ', 'cz'],
    ['uk-UA', 'ua'],
    ['ru', 'ru'],
    ['ru-RU', 'ru'],
    ['ru-DE', 'ru'], // the language's script wins over a Latin region
    ['el-GR', 'gr'],
    ['he-IL', 'il'],
    ['ar', 'ara'],
    ['ar-EG', 'ara'],
    ['es-AR', 'latam'], // Xpra 3.1 made this Arabic (xpra#2241)
    ['es-MX', 'latam'],
    ['es-419', 'latam'],
    ['es-ES', 'es'],
    ['es', 'es'],
    ['ca-ES', 'es'],
    ['pt-BR', 'br'],
    ['pt-PT', 'pt'],
    ['ja-JP', 'jp'],
    ['sr-Latn-RS', 'rs'],
    ['de_CH', 'ch'],
    ['xx', 'us'],
    ['', 'us'],
    [undefined, 'us'],
    [null, 'us']
  ])('%s -> %s', (language, layout) => {
    expect(layoutForLanguage(language)).toBe(layout);
  });
});

/** Key maps as Chromium's `navigator.keyboard.getLayoutMap()` gives them. */
function keyMap(rows: Record<string, string>): KeyMap {
  return new Map(Object.entries(rows));
}
const QWERTY = keyMap({
  KeyQ: 'q',
  KeyW: 'w',
  KeyY: 'y',
  KeyZ: 'z',
  Backslash: '\\'
});
const QWERTY_UK = keyMap({ KeyQ: 'q', KeyY: 'y', Backslash: '#' });
const QWERTZ = keyMap({ KeyQ: 'q', KeyY: 'z', KeyZ: 'y', Backslash: '#' });
const AZERTY = keyMap({ KeyQ: 'a', KeyW: 'z', KeyY: 'y', KeyA: 'q' });
const JCUKEN = keyMap({ KeyQ: 'й', KeyW: 'ц', KeyY: 'н' });

describe('layoutFromKeyMap', () => {
  it.each([
    [QWERTY, 'en-US', 'us'],
    [QWERTY, 'ru-RU', 'us'], // a Russian browser on an English keyboard (xpra-html5#62)
    [QWERTY, 'de-DE', 'us'], // an English keyboard in a German browser
    [QWERTY, 'fr-FR', 'us'],
    [QWERTY, 'es-AR', 'latam'],
    [QWERTY, 'it', 'it'],
    [QWERTY_UK, 'en-GB', 'gb'],
    [QWERTY_UK, 'en-US', 'gb'],
    [QWERTY_UK, 'ru', 'gb'],
    [QWERTZ, 'de-DE', 'de'],
    [QWERTZ, 'de-CH', 'ch'],
    [QWERTZ, 'cs', 'cz'],
    [QWERTZ, 'en-US', 'de'],
    [AZERTY, 'fr-FR', 'fr'],
    [AZERTY, 'fr-BE', 'be'],
    [AZERTY, 'en-US', 'fr'],
    [JCUKEN, 'ru-RU', 'ru'],
    [JCUKEN, 'en-US', 'ru'],
    [JCUKEN, 'uk-UA', 'ua']
  ])('%p with %s -> %s', (map, language, layout) => {
    expect(layoutFromKeyMap(map, language)).toBe(layout);
  });

  it('says nothing without a map or a KeyQ', () => {
    expect(layoutFromKeyMap(undefined, 'de')).toBeUndefined();
    expect(layoutFromKeyMap(new Map(), 'de')).toBeUndefined();
  });
});

describe('detectLayout', () => {
  it('prefers the layout map', async () => {
    const nav = {
      language: 'ru-RU',
      keyboard: { getLayoutMap: async () => QWERTY }
    };
    expect(await detectLayout(nav)).toEqual({ layout: 'us', variant: '' });
  });

  it('falls back to the language without a layout map', async () => {
    expect(await detectLayout({ language: 'de-CH' })).toEqual({
      layout: 'ch',
      variant: ''
    });
  });

  it('falls back to the language when the map is refused', async () => {
    const nav = {
      language: 'fr-FR',
      keyboard: {
        getLayoutMap: () => Promise.reject(new Error('SecurityError'))
      }
    };
    expect((await detectLayout(nav)).layout).toBe('fr');
  });
});

describe('layout values', () => {
  it('round-trips layout and variant', () => {
    for (const value of [
      { layout: 'de', variant: '' },
      { layout: 'de', variant: 'nodeadkeys' }
    ]) {
      expect(parseLayoutValue(layoutValue(value))).toEqual(value);
    }
  });
});

describe('layoutOptions', () => {
  const layouts: ILayoutInfo[] = [
    { name: 'ad', description: 'Andorra', variants: {} },
    {
      name: 'de',
      description: 'German',
      variants: { nodeadkeys: 'German (no dead keys)' }
    },
    { name: 'us', description: 'English (US)', variants: {} }
  ];

  it('lists common layouts first, then the rest, and the variants of the current one', () => {
    const values = layoutOptions(layouts, { layout: 'de', variant: '' }).map(
      ([v]) => v
    );
    expect(values).toEqual(['us', 'de', 'de:nodeadkeys', 'ad']);
  });

  it('keeps a current value the list lacks', () => {
    const values = layoutOptions(layouts, { layout: 'zz', variant: '' }).map(
      ([v]) => v
    );
    expect(values[0]).toBe('zz');
  });
});

describe('applyToClient', () => {
  function frameWith(client: any): HTMLIFrameElement {
    return { contentWindow: { client } } as unknown as HTMLIFrameElement;
  }

  it('sends layout-changed and pins the client to the layout', () => {
    const sent: unknown[] = [];
    const client = {
      connected: true,
      keyboard_layout: 'us',
      key_layout: 'us',
      send: (packet: unknown) => sent.push(packet)
    };
    expect(
      applyToClient(frameWith(client), { layout: 'de', variant: 'nodeadkeys' })
    ).toBe(true);
    expect(sent).toEqual([['layout-changed', 'de', 'nodeadkeys']]);
    expect(client.keyboard_layout).toBe('de');
    expect(client.key_layout).toBe('de');
  });

  it('keeps dead keys from the server (the browser composes them)', () => {
    const seen: string[] = [];
    const client = {
      connected: true,
      send: () => undefined,
      _keyb_process: (pressed: boolean, event: { key: string }) => {
        seen.push(event.key);
        return false;
      }
    };
    applyToClient(frameWith(client), { layout: 'de', variant: '' });
    applyToClient(frameWith(client), { layout: 'de', variant: '' });
    const process = (client as any)._keyb_process;
    process.call(client, true, { key: 'Dead' });
    process.call(client, true, { key: 'ê' });
    expect(seen).toEqual(['ê']);
  });

  it('does not switch to the layout the server has already', () => {
    const sent: unknown[] = [];
    const client = {
      connected: true,
      key_layout: 'fr', // from the hello (the URL's keyboard_layout)
      send: (packet: unknown) => sent.push(packet)
    };
    applyToClient(frameWith(client), { layout: 'fr', variant: '' });
    expect(sent).toEqual([]);
    applyToClient(frameWith(client), { layout: 'fr', variant: 'oss' });
    applyToClient(frameWith(client), { layout: 'fr', variant: 'oss' });
    applyToClient(frameWith(client), { layout: 'fr', variant: '' });
    expect(sent).toEqual([
      ['layout-changed', 'fr', 'oss'],
      ['layout-changed', 'fr', '']
    ]);
  });

  it('waits for a connected client', () => {
    const client = { connected: false, send: jest.fn() };
    expect(
      applyToClient(frameWith(client), { layout: 'fr', variant: '' })
    ).toBe(false);
    expect(client.send).not.toHaveBeenCalled();
    expect(applyToClient(null, { layout: 'fr', variant: '' })).toBe(false);
  });
});
