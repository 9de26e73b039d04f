import {
  DesktopModel,
  IStateChange,
  isDesktopEvent,
  stateRank
} from '../model';
import { IDesktopAPI } from '../request';
import { EVENT_SCHEMA_ID, ICreateOptions, IDesktop } from '../tokens';

function desktop(
  id: string,
  state: IDesktop['state'] = 'running',
  extra: Partial<IDesktop> = {}
): IDesktop {
  return {
    id,
    name: `Desktop ${id}`,
    state,
    created: '2025-01-01T10:00:00.000000+00:00',
    url: `/user/alice/desktops/${id}/`,
    pid: 1234,
    geometry: '1280x800',
    exit_status: null,
    log_tail: [],
    reason: '',
    ...extra
  };
}

function event(id: string, state: IDesktop['state'], reason = '') {
  return {
    schema_id: EVENT_SCHEMA_ID,
    id,
    name: `Desktop ${id}`,
    state,
    reason,
    url: `/user/alice/desktops/${id}/`
  };
}

class FakeAPI implements IDesktopAPI {
  server = new Map<string, IDesktop>();
  calls: string[] = [];
  async list() {
    this.calls.push('list');
    return Array.from(this.server.values());
  }
  async get(id: string) {
    this.calls.push(`get ${id}`);
    const d = this.server.get(id);
    if (!d) {
      throw Object.assign(new Error('not found'), {
        response: { status: 404 }
      });
    }
    return d;
  }
  async create(options: ICreateOptions = {}) {
    this.calls.push(`create ${JSON.stringify(options)}`);
    const d = desktop('new1', 'starting', {
      name: options.name ?? 'Desktop 1'
    });
    this.server.set(d.id, d);
    return d;
  }
  async shutdown(id: string) {
    this.calls.push(`shutdown ${id}`);
    const d = this.server.get(id);
    if (!d) {
      throw Object.assign(new Error('not found'), {
        response: { status: 404 }
      });
    }
    this.server.delete(id);
    return {
      ...d,
      state: d.state === 'failed' ? d.state : 'stopped'
    } as IDesktop;
  }
  async shutdownAll() {
    this.calls.push('shutdownAll');
    const all = Array.from(this.server.values()).map(
      d => ({ ...d, state: 'stopped' }) as IDesktop
    );
    this.server.clear();
    return all;
  }
}

function setup() {
  const api = new FakeAPI();
  const model = new DesktopModel({ api });
  const changes: IStateChange[] = [];
  const failures: IDesktop[] = [];
  let changed = 0;
  model.stateChanged.connect((_, c) => changes.push(c));
  model.failed.connect((_, d) => failures.push(d));
  model.changed.connect(() => changed++);
  return { api, model, changes, failures, changed: () => changed };
}

const flush = () => new Promise(resolve => setTimeout(resolve, 0));

describe('isDesktopEvent', () => {
  it('accepts our events and rejects others', () => {
    expect(isDesktopEvent(event('a', 'running'))).toBe(true);
    expect(isDesktopEvent({ ...event('a', 'running'), schema_id: 'x' })).toBe(
      false
    );
    expect(isDesktopEvent({ ...event('a', 'running'), state: 'weird' })).toBe(
      false
    );
    expect(isDesktopEvent({ ...event('a', 'running'), id: '' })).toBe(false);
    expect(isDesktopEvent(null)).toBe(false);
    expect(isDesktopEvent('running')).toBe(false);
  });

  it('ranks states forward only', () => {
    expect(stateRank('starting')).toBeLessThan(stateRank('running'));
    expect(stateRank('running')).toBeLessThan(stateRank('failed'));
    expect(stateRank('stopped')).toBe(stateRank('failed'));
  });
});

describe('DesktopModel', () => {
  it('loads the list and resolves ready', async () => {
    const { api, model, changed, failures } = setup();
    api.server.set('a', desktop('a'));
    api.server.set('b', desktop('b', 'failed', { reason: 'old' }));
    await model.refresh();
    await model.ready;
    expect(model.desktops.map(d => d.id)).toEqual(['a', 'b']);
    expect(changed()).toBe(1); // one batch
    // a failure found in a listing is old news: no notification
    expect(failures).toEqual([]);
  });

  it('resolves ready even when the first listing fails', async () => {
    const { api, model } = setup();
    api.list = () => Promise.reject(new Error('offline'));
    await expect(model.refresh()).rejects.toThrow('offline');
    await expect(model.ready).resolves.toBeUndefined();
  });

  it('drops desktops a later listing lacks', async () => {
    const { api, model, changes } = setup();
    api.server.set('a', desktop('a'));
    await model.refresh();
    api.server.clear();
    await model.refresh();
    expect(model.desktops).toEqual([]);
    expect(model.isForgotten('a')).toBe(true);
    expect(changes[changes.length - 1]).toMatchObject({
      previous: 'running',
      desktop: { id: 'a', state: 'stopped' }
    });
  });

  it('creates a desktop', async () => {
    const { api, model, changes } = setup();
    const d = await model.create({ name: 'Mine', geometry: '800x600' });
    expect(api.calls).toContain('create {"name":"Mine","geometry":"800x600"}');
    expect(d.state).toBe('starting');
    expect(model.get('new1')?.name).toBe('Mine');
    expect(changes).toEqual([
      expect.objectContaining({ previous: null, source: 'rest' })
    ]);
  });

  it('does not move a desktop back when a late snapshot arrives', () => {
    const { model } = setup();
    model.applyEvent(event('a', 'starting'));
    model.applyEvent(event('a', 'running'));
    model.applyDesktop(desktop('a', 'starting'), 'rest');
    expect(model.get('a')?.state).toBe('running');
    // but it takes the snapshot's details
    expect(model.get('a')?.geometry).toBe('1280x800');
  });

  it('keeps REST details when an event updates a desktop', () => {
    const { model } = setup();
    model.applyDesktop(desktop('a', 'starting'), 'rest');
    model.applyEvent(event('a', 'running'));
    expect(model.get('a')).toMatchObject({
      state: 'running',
      geometry: '1280x800',
      pid: 1234,
      created: '2025-01-01T10:00:00.000000+00:00'
    });
  });

  it('adds a desktop started elsewhere and fetches its details', async () => {
    const { api, model, changes } = setup();
    api.server.set('x', desktop('x', 'starting', { geometry: '1024x768' }));
    expect(model.applyEvent(event('x', 'starting'))).toBe(true);
    expect(model.get('x')).toMatchObject({ state: 'starting', created: '' });
    await flush();
    expect(api.calls).toContain('get x');
    expect(model.get('x')?.geometry).toBe('1024x768');
    expect(changes[0]).toMatchObject({ previous: null, source: 'event' });
  });

  it('ignores events of other schemas', () => {
    const { model, changed } = setup();
    expect(model.applyEvent({ schema_id: 'other', id: 'a' })).toBe(false);
    expect(changed()).toBe(0);
  });

  it('announces a failure with the reason and fetches the log', async () => {
    const { api, model, failures } = setup();
    model.applyDesktop(desktop('a', 'running'), 'rest');
    api.server.set(
      'a',
      desktop('a', 'failed', {
        reason: 'xpra was killed by SIGKILL',
        exit_status: -9,
        log_tail: ['bye']
      })
    );
    model.applyEvent(event('a', 'failed', 'xpra was killed by SIGKILL'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      id: 'a',
      state: 'failed',
      reason: 'xpra was killed by SIGKILL'
    });
    await flush();
    expect(model.get('a')?.log_tail).toEqual(['bye']);
    // the same failure again is not news
    model.applyEvent(event('a', 'failed', 'xpra was killed by SIGKILL'));
    expect(failures).toHaveLength(1);
  });

  it('announces the failure of a desktop it only hears about', () => {
    const { model, failures } = setup();
    model.applyEvent(event('z', 'failed', 'did not answer'));
    expect(failures.map(d => d.reason)).toEqual(['did not answer']);
  });

  it('forgets a desktop on its stopped event, for good', () => {
    const { model, changes } = setup();
    model.applyDesktop(desktop('a', 'running'), 'rest');
    model.applyEvent(event('a', 'stopped', 'stopped on request'));
    expect(model.get('a')).toBeUndefined();
    expect(changes[changes.length - 1]).toMatchObject({
      previous: 'running',
      desktop: { state: 'stopped' },
      source: 'event'
    });
    // a stale snapshot must not bring it back
    model.applyDesktop(desktop('a', 'running'), 'rest');
    model.applyEvent(event('a', 'running'));
    expect(model.get('a')).toBeUndefined();
  });

  it('does not add a desktop whose first news is that it stopped', () => {
    const { model, changed } = setup();
    model.applyEvent(event('q', 'stopped'));
    expect(model.desktops).toEqual([]);
    expect(changed()).toBe(0);
  });

  it('shuts a desktop down', async () => {
    const { api, model } = setup();
    api.server.set('a', desktop('a'));
    await model.refresh();
    await model.shutdown('a');
    expect(api.calls).toContain('shutdown a');
    expect(model.get('a')).toBeUndefined();
  });

  it('treats 404 on shutdown as already gone', async () => {
    const { model } = setup();
    model.applyDesktop(desktop('gone'), 'rest');
    await model.shutdown('gone');
    expect(model.get('gone')).toBeUndefined();
  });

  it('shuts all desktops down', async () => {
    const { api, model } = setup();
    api.server.set('a', desktop('a'));
    api.server.set('b', desktop('b', 'failed'));
    await model.refresh();
    await model.shutdownAll();
    expect(model.desktops).toEqual([]);
    expect(model.isForgotten('a') && model.isForgotten('b')).toBe(true);
  });

  it('does not emit changed for an identical snapshot', () => {
    const { model, changed } = setup();
    model.applyDesktop(desktop('a'), 'rest');
    model.applyDesktop(desktop('a'), 'rest');
    expect(changed()).toBe(1);
  });

  it('keeps its desktops when a refresh gets something that is not a list', async () => {
    const { api, model } = setup();
    api.server.set('a', desktop('a'));
    await model.refresh();
    // e.g. the hub's HTML page while the proxy has lost the server's route
    api.list = async () =>
      '<html>not a listing</html>' as unknown as IDesktop[];
    await expect(model.refresh()).rejects.toThrow('expected a list');
    expect(model.get('a')?.state).toBe('running');
    expect(model.isForgotten('a')).toBe(false);
  });
});

describe('whenStarted', () => {
  it('waits for the event that the desktop runs', async () => {
    const api = new FakeAPI();
    const model = new DesktopModel({ api });
    model.applyDesktop(desktop('a', 'starting'), 'rest');
    const started = model.whenStarted('a', 5000, 60000);
    model.applyEvent(event('a', 'running'));
    expect((await started)?.state).toBe('running');
  });

  it('asks the server when no event comes, and gives a failure back', async () => {
    const api = new FakeAPI();
    const model = new DesktopModel({ api });
    model.applyDesktop(desktop('a', 'starting'), 'rest');
    api.server.set('a', desktop('a', 'failed', { reason: 'xpra exited' }));
    const started = await model.whenStarted('a', 5000, 10);
    expect(started?.state).toBe('failed');
    expect(api.calls).toContain('get a');
  });

  it('gives up after the timeout, and knows nothing of a forgotten desktop', async () => {
    const api = new FakeAPI();
    const model = new DesktopModel({ api });
    model.applyDesktop(desktop('a', 'starting'), 'rest');
    api.server.set('a', desktop('a', 'starting'));
    expect(await model.whenStarted('a', 50, 10)).toBeUndefined();
    expect(await model.whenStarted('gone', 50, 10)).toBeUndefined();
  });
});
