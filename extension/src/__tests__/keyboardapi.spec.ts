/**
 * The keyboard API client both pages use (keyboardapi.ts), against a fake `send` (what is
 * faked: the server; the rules are the real ones).
 */
import { AUTOMATIC } from '../keyboard';
import { KeyboardAPI, layoutToUse, pickLayout } from '../keyboardapi';

function answer(body: unknown, status = 200): Response {
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: 'status text',
    json: async () => body
  } as unknown as Response;
}

describe('KeyboardAPI', () => {
  it('sends the same requests on either server', async () => {
    const send = jest.fn(async (path: string, init?: RequestInit) =>
      answer({ layout: 'de', variant: '', saved: true, path, init })
    );
    const api = new KeyboardAPI(send);
    await api.keep({ layout: 'de', variant: '' });
    await api.switchDesktop('a b', { layout: 'fr', variant: 'oss' });
    expect(send.mock.calls.map(([path, init]) => [path, init?.method])).toEqual(
      [
        ['desktops/api/keyboard', 'PUT'],
        ['desktops/api/desktops/a%20b', 'PATCH']
      ]
    );
    expect(JSON.parse(String(send.mock.calls[1][1]?.body))).toEqual({
      layout: 'fr',
      variant: 'oss'
    });
  });

  it("says the server's reason when it refuses", async () => {
    const api = new KeyboardAPI(async () =>
      answer({ message: 'unknown keyboard layout qq' }, 400)
    );
    await expect(api.keep({ layout: 'qq', variant: '' })).rejects.toThrow(
      'unknown keyboard layout qq'
    );
  });

  it('reads no choice and no layouts from a server that cannot say', async () => {
    const api = new KeyboardAPI(async () => {
      throw new TypeError('network down');
    });
    expect(await api.choice()).toEqual({
      layout: '',
      variant: '',
      saved: false
    });
    expect(await api.layouts()).toEqual([]);
  });
});

describe('layoutToUse', () => {
  const detected = async () => ({ layout: 'fr', variant: '' });

  it('takes the kept choice over the browser, switching only a desktop that differs', async () => {
    const kept = { layout: 'de', variant: 'nodeadkeys', saved: true };
    expect(await layoutToUse(kept, detected)).toEqual({
      value: { layout: 'de', variant: 'nodeadkeys' },
      switchTo: undefined
    });
    const running = { layout: 'de', variant: '' };
    expect((await layoutToUse(kept, detected, running)).switchTo).toEqual({
      layout: 'de',
      variant: 'nodeadkeys'
    });
  });

  it("takes the browser's keyboard when nothing is kept", async () => {
    const none = { layout: '', variant: '', saved: false };
    const running = { layout: 'fr', variant: '' };
    expect(await layoutToUse(none, detected, running)).toEqual({
      value: { layout: 'fr', variant: '' },
      switchTo: undefined
    });
  });
});

describe('pickLayout', () => {
  const calls: string[] = [];
  const api = new KeyboardAPI(async (path, init) => {
    calls.push(`${init?.method ?? 'GET'} ${path}`);
    return answer({ layout: '', variant: '', saved: false });
  });
  const switched: string[] = [];
  const switchTo = async (value: { layout: string; variant: string }) => {
    switched.push(`${value.layout}:${value.variant}`);
  };

  beforeEach(() => {
    calls.length = 0;
    switched.length = 0;
  });

  it('switches the desktop to a picked layout, then keeps it', async () => {
    const value = await pickLayout(
      api,
      'de:nodeadkeys',
      async () => ({ layout: 'fr', variant: '' }),
      switchTo
    );
    expect(value).toEqual({ layout: 'de', variant: 'nodeadkeys' });
    expect(switched).toEqual(['de:nodeadkeys']);
    expect(calls).toEqual(['PUT desktops/api/keyboard']);
  });

  it("forgets the kept layout for Automatic and switches to the browser's", async () => {
    const value = await pickLayout(
      api,
      AUTOMATIC,
      async () => ({ layout: 'fr', variant: '' }),
      switchTo
    );
    expect(value).toEqual({ layout: 'fr', variant: '' });
    expect(switched).toEqual(['fr:']);
    expect(calls).toEqual(['DELETE desktops/api/keyboard']);
  });
});
