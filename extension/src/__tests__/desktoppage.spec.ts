/**
 * The desktop-only page (desktoppage.ts) on a copy of its HTML, with a fake server: fetch
 * is a jest function answering as the desktop-only server's API does (what is faked: the
 * server and the browser's navigator; the DOM is jsdom's).
 */
import { DesktopPage, IPageStatus } from '../desktoppage';

const PAGE = `
<header>
  <span id="state"></span>
  <select id="keyboard-layout"></select>
  <span id="clipboard"></span>
</header>
<main>
  <div id="starting" hidden></div>
  <div id="dead" hidden>
    <span id="dead-state"></span> <span id="reason"></span>
    <details id="log-box"><pre id="log"></pre></details>
    <button id="restart" type="button">Restart</button><span id="restart-error"></span>
  </div>
  <iframe id="client" hidden></iframe>
</main>`;

const LAYOUTS = [
  { name: 'us', description: 'English (US)', variants: {} },
  {
    name: 'de',
    description: 'German',
    variants: { nodeadkeys: 'no dead keys' }
  },
  { name: 'fr', description: 'French', variants: {} }
];

function running(layout = 'us', variant = ''): IPageStatus {
  return {
    state: 'running',
    id: 'd1',
    layout,
    variant,
    client_url: '/user/a/client/abc/index.html?path=%2Fuser%2Fa%2Fdesktop%2F'
  };
}

function answer(body: unknown, status = 200): Response {
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: 'status',
    type: 'basic',
    json: async () => body,
    text: async () => JSON.stringify(body)
  } as unknown as Response;
}

/**
 * A fake desktop-only server: the keyboard API both servers share (layouts, the kept choice,
 * PATCH of the desktop) and `api/status` / `api/restart`.
 */
function server(
  initial: IPageStatus,
  kept?: { layout: string; variant: string }
) {
  let status = initial;
  let choice = kept
    ? { ...kept, saved: true }
    : { layout: '', variant: '', saved: false };
  const fetch = jest.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    if (url === 'desktops/api/keyboard-layouts') {
      return answer(LAYOUTS);
    }
    if (url === 'desktops/api/keyboard' && method === 'GET') {
      return answer(choice);
    }
    if (url === 'desktops/api/keyboard' && method === 'DELETE') {
      choice = { layout: '', variant: '', saved: false };
      return answer(choice);
    }
    if (url === 'desktops/api/keyboard' && method === 'PUT') {
      choice = { ...JSON.parse(String(init?.body)), saved: true };
      return answer(choice);
    }
    if (url === `desktops/api/desktops/${status.id}` && method === 'PATCH') {
      const body = JSON.parse(String(init?.body));
      status = { ...status, layout: body.layout, variant: body.variant };
      return answer(status);
    }
    if (url === 'api/restart') {
      status = running();
      return answer(status);
    }
    if (url === 'api/status') {
      return answer(status);
    }
    return answer({ message: 'not found' }, 404);
  });
  return { fetch, status: () => status };
}

function makePage(
  status: IPageStatus,
  options: { kept?: { layout: string; variant: string }; nav?: any } = {}
) {
  document.body.innerHTML = PAGE;
  const fake = server(status, options.kept);
  const page = new DesktopPage({
    document,
    data: { status, xsrf: 'token-1' },
    fetch: fake.fetch,
    navigator: options.nav ?? { language: 'en-US' }
  });
  return { page, fetch: fake.fetch };
}

/** A browser on a French (AZERTY) keyboard, as navigator.keyboard tells it. */
const azerty = {
  language: 'en-US',
  keyboard: {
    getLayoutMap: async () =>
      new Map([
        ['KeyQ', 'a'],
        ['KeyY', 'y']
      ])
  }
};

const $ = (id: string) => document.getElementById(id) as HTMLElement;
const calls = (fetch: jest.Mock, method: string, url: string) =>
  fetch.mock.calls.filter(
    ([u, init]) => u === url && (init?.method ?? 'GET') === method
  );

afterEach(() => {
  jest.useRealTimers();
});

describe('DesktopPage', () => {
  it('loads the client with the desktop layout once it runs', async () => {
    const { page } = makePage(running('de'));
    await page.start();
    const iframe = $('client') as HTMLIFrameElement;
    expect(iframe.hidden).toBe(false);
    expect(iframe.getAttribute('src')).toBe(
      `${running().client_url}&keyboard_layout=de`
    );
    expect($('state').textContent).toBe('running');
    expect($('starting').hidden).toBe(true);
    expect($('dead').hidden).toBe(true);
    // the reconnect watcher of the panel (clientframe.ts) sits on the client's parent
    expect($('client').parentElement?.dataset.connection).toBe('connecting');
    page.dispose();
  });

  it('drops the client and its watcher when the desktop ends, leaving Restart usable', async () => {
    const { page } = makePage(running());
    await page.start();
    const main = $('client').parentElement as HTMLElement;
    expect(main.querySelector('.miniswan-DesktopReconnect')).not.toBeNull();
    page.show({ state: 'stopped', id: 'd1', reason: 'the application exited' });
    expect(main.querySelector('.miniswan-DesktopReconnect')).toBeNull();
    expect(main.dataset.connection).toBeUndefined();
    expect($('dead').hidden).toBe(false);
    expect(($('client') as HTMLIFrameElement).hidden).toBe(true);
    page.dispose();
  });

  it('says why a desktop failed, and restarts it with the XSRF token', async () => {
    const failed = {
      state: 'failed',
      id: 'd1',
      reason: 'Xpra exited with status 1',
      log_tail: ['line one', 'line two']
    };
    const { page, fetch } = makePage(failed);
    await page.start();
    expect($('dead').hidden).toBe(false);
    expect($('reason').textContent).toBe('Xpra exited with status 1');
    expect($('log').textContent).toBe('line one\nline two');
    expect(($('client') as HTMLIFrameElement).hidden).toBe(true);

    $('restart').click();
    await new Promise(resolve => setTimeout(resolve, 0));
    const [[, init]] = calls(fetch, 'POST', 'api/restart');
    expect((init.headers as Record<string, string>)['X-XSRFToken']).toBe(
      'token-1'
    );
    expect(page.status.state).toBe('running');
    expect($('dead').hidden).toBe(true);
    page.dispose();
  });

  it('offers the server layouts, switches to the one the user picks and keeps it', async () => {
    const { page, fetch } = makePage(running('de'), {
      kept: { layout: 'de', variant: '' }
    });
    await page.start();
    const select = $('keyboard-layout') as HTMLSelectElement;
    // the same options as the panel's selector: the current layout's variants included
    expect(select.value).toBe('de');
    expect(Array.from(select.options).map(o => o.value)).toContain(
      'de:nodeadkeys'
    );

    expect(calls(fetch, 'PATCH', 'desktops/api/desktops/d1')).toHaveLength(0);

    select.value = 'fr';
    select.dispatchEvent(new Event('change'));
    await new Promise(resolve => setTimeout(resolve, 0));
    // the same two calls as the panel: switch the desktop, keep the choice
    const patches = calls(fetch, 'PATCH', 'desktops/api/desktops/d1');
    expect(patches).toHaveLength(1);
    expect(JSON.parse(String(patches[0][1].body))).toEqual({
      layout: 'fr',
      variant: ''
    });
    const [[, put]] = calls(fetch, 'PUT', 'desktops/api/keyboard');
    expect(JSON.parse(String(put.body))).toEqual({ layout: 'fr', variant: '' });
    expect((put.headers as Record<string, string>)['X-XSRFToken']).toBe(
      'token-1'
    );
    expect(page.status.layout).toBe('fr');
    expect(select.value).toBe('fr');
    page.dispose();
  });

  it('keeps the layout list as it is across status polls, so an open list stays open', async () => {
    const { page } = makePage(running('de'), {
      kept: { layout: 'de', variant: '' }
    });
    await page.start();
    const select = $('keyboard-layout') as HTMLSelectElement;
    const first = select.options[1];
    // a poll's answer with the same layout: the same option elements
    page.show(running('de'));
    expect(select.options[1]).toBe(first);
    expect(select.value).toBe('de');
    // the layout changed elsewhere (the panel, the API): the list follows it
    page.show(running('fr'));
    expect(select.value).toBe('fr');
    expect(select.options[1]).not.toBe(first);
    page.dispose();
  });

  it('forgets the kept layout for Automatic and takes the browser keyboard again', async () => {
    const { page, fetch } = makePage(running('de'), {
      kept: { layout: 'de', variant: '' },
      nav: azerty
    });
    await page.start();
    const select = $('keyboard-layout') as HTMLSelectElement;
    expect(select.options[0].value).toBe('automatic');
    select.value = 'automatic';
    select.dispatchEvent(new Event('change'));
    await new Promise(resolve => setTimeout(resolve, 0));
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(calls(fetch, 'DELETE', 'desktops/api/keyboard')).toHaveLength(1);
    const patches = calls(fetch, 'PATCH', 'desktops/api/desktops/d1');
    expect(JSON.parse(String(patches[patches.length - 1][1].body))).toEqual({
      layout: 'fr',
      variant: ''
    });
    expect(calls(fetch, 'PUT', 'desktops/api/keyboard')).toHaveLength(0);
    expect(page.status.layout).toBe('fr');
    expect(select.value).toBe('fr');
    page.dispose();
  });

  it('uses the keyboard the browser reports until the user saved a choice', async () => {
    const { page, fetch } = makePage(running('us'), { nav: azerty });
    await page.start();
    const patches = calls(fetch, 'PATCH', 'desktops/api/desktops/d1');
    expect(patches).toHaveLength(1);
    expect(JSON.parse(String(patches[0][1].body))).toEqual({
      layout: 'fr',
      variant: ''
    });
    // a guess is not kept
    expect(calls(fetch, 'PUT', 'desktops/api/keyboard')).toHaveLength(0);
    expect(page.status.layout).toBe('fr');
    page.dispose();

    // a kept choice wins over the browser's keyboard
    const kept = makePage(running('us'), {
      kept: { layout: 'us', variant: '' },
      nav: azerty
    });
    await kept.page.start();
    expect(calls(kept.fetch, 'PATCH', 'desktops/api/desktops/d1')).toHaveLength(
      0
    );
    kept.page.dispose();
  });

  it('probes api/status without following redirects when the connection drops', async () => {
    jest.useFakeTimers();
    const { page, fetch } = makePage(running());
    await page.start();
    (page as any)._connection.reconnector.lost(true);
    expect($('client').parentElement?.dataset.connection).toBe('reconnecting');
    await jest.advanceTimersByTimeAsync(6000);
    const probes = fetch.mock.calls.filter(
      ([url, init]) => url === 'api/status' && init?.redirect === 'manual'
    );
    expect(probes.length).toBeGreaterThan(0);
    expect(probes[0][1]?.cache).toBe('no-store');
    // with the Hub's XSRF token: without it the Hub answers 403 and the page never reconnects
    expect(
      (probes[0][1]?.headers as Record<string, string>)['X-XSRFToken']
    ).toBe('token-1');
    page.dispose();
  });
});
