import {
  XPRA_CLIENT_PARAMS,
  fitGeometry,
  keyboardLayoutFor,
  screenGeometry,
  xpraClientUrl
} from '../xpra';

describe('keyboardLayoutFor', () => {
  it.each([
    ['en-US', 'us'],
    ['en', 'us'],
    ['en-GB', 'gb'],
    ['de-DE', 'de'],
    ['de-CH', 'ch'],
    ['fr', 'fr'],
    ['fr-BE', 'be'],
    ['sv-SE', 'se'],
    ['es-AR', 'latam'],
    ['es-ES', 'es'],
    ['pt-BR', 'br'],
    ['ja', 'jp'],
    ['xx', 'us'],
    ['', 'us'],
    [undefined, 'us']
  ])('%s -> %s', (language, layout) => {
    expect(keyboardLayoutFor(language)).toBe(layout);
  });
});

describe('XPRA_CLIENT_PARAMS', () => {
  it('are the values of client-params.json, which the server reads too', () => {
    expect(XPRA_CLIENT_PARAMS.swap_keys).toBe('false');
    expect(XPRA_CLIENT_PARAMS.video).toBe('false');
    expect(XPRA_CLIENT_PARAMS.sound).toBe('false');
    expect(
      Object.values(XPRA_CLIENT_PARAMS).every(v => typeof v === 'string')
    ).toBe(true);
  });
});

describe('xpraClientUrl', () => {
  it('passes every parameter explicitly', () => {
    const url = new URL(
      xpraClientUrl('/user/alice/desktops/abc/', '', 'de-CH'),
      'http://localhost'
    );
    expect(url.pathname).toBe('/user/alice/desktops/abc/index.html');
    for (const [key, value] of Object.entries(XPRA_CLIENT_PARAMS)) {
      expect(url.searchParams.get(key)).toBe(value);
    }
    expect(url.searchParams.get('keyboard_layout')).toBe('ch');
    expect(url.searchParams.get('sharing')).toBe('true');
    expect(url.searchParams.get('exit_with_client')).toBe('false');
  });

  it("loads the server's cached client, its websocket going to the desktop", () => {
    const url = new URL(
      xpraClientUrl(
        'http://example.org/user/bob/desktops/abc',
        'de',
        'en-US',
        '/user/bob/desktops/client/0123abcd/index.html'
      ),
      'http://localhost'
    );
    expect(url.pathname).toBe('/user/bob/desktops/client/0123abcd/index.html');
    expect(url.searchParams.get('path')).toBe('/user/bob/desktops/abc/');
    expect(url.searchParams.get('keyboard_layout')).toBe('de');
    expect(url.searchParams.get('swap_keys')).toBe('false');
  });

  it('prefers a configured layout and adds a missing slash', () => {
    const url = xpraClientUrl('/desktops/abc', 'fr', 'en-US');
    expect(url.startsWith('/desktops/abc/index.html?')).toBe(true);
    expect(url).toContain('keyboard_layout=fr');
  });
});

describe('fitGeometry and screenGeometry', () => {
  it('clamps and rounds', () => {
    expect(fitGeometry(1001, 701)).toBe('1000x700');
    expect(fitGeometry(100, 50)).toBe('320x200');
    expect(fitGeometry(5000, 3000)).toBe('3840x2160');
  });

  it('uses the display size', () => {
    expect(screenGeometry({ width: 1920, height: 1080 })).toBe('1920x1080');
    expect(screenGeometry({ width: 0, height: 0 })).toBeUndefined();
  });
});
