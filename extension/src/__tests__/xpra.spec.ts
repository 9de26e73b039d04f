import { XPRA_CLIENT_PARAMS, keyboardLayoutFor, xpraClientUrl } from '../xpra';

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

  it('prefers a configured layout and adds a missing slash', () => {
    const url = xpraClientUrl('/desktops/abc', 'fr', 'en-US');
    expect(url.startsWith('/desktops/abc/index.html?')).toBe(true);
    expect(url).toContain('keyboard_layout=fr');
  });
});
