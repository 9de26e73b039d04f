/**
 * The reconnect loop with fake probes and fake timers (no server, no DOM).
 */
import {
  ConnectionState,
  ITimers,
  ProbeResult,
  Reconnector,
  backoffDelay,
  probeResultFor
} from '../reconnect';

/** Timers that run only when the test says so. */
class FakeTimers implements ITimers {
  pending = new Map<number, { fn: () => void; ms: number }>();
  clock = 1000;
  private _next = 1;
  setTimeout(fn: () => void, ms: number): number {
    const id = this._next++;
    this.pending.set(id, { fn, ms });
    return id;
  }
  clearTimeout(id: number): void {
    this.pending.delete(id);
  }
  now(): number {
    return this.clock;
  }
  /** The delay of the one pending timer. */
  get delay(): number | undefined {
    const all = Array.from(this.pending.values());
    return all.length ? all[all.length - 1].ms : undefined;
  }
  /** Run the pending timers, then let the probe's promise settle. */
  async fire(): Promise<void> {
    const all = Array.from(this.pending.entries());
    this.pending.clear();
    for (const [, t] of all) {
      this.clock += t.ms;
      t.fn();
    }
    for (let i = 0; i < 5; i++) {
      await Promise.resolve();
    }
  }
}

function setup(results: ProbeResult[]) {
  const timers = new FakeTimers();
  const states: ConnectionState[] = [];
  const probe = jest.fn(async () => results.shift() ?? 'down');
  const reload = jest.fn();
  const r = new Reconnector({
    probe,
    reload,
    timers,
    onChange: s => states.push(s),
    reloadGraceMs: 20000
  });
  return { timers, states, probe, reload, r };
}

describe('backoffDelay', () => {
  it('doubles up to the maximum', () => {
    expect([0, 1, 2, 3, 4, 10].map(a => backoffDelay(a))).toEqual([
      500, 1000, 2000, 4000, 5000, 5000
    ]);
  });
});

describe('probeResultFor', () => {
  it.each([
    [200, { state: 'running' }, 'up'],
    [200, { state: 'starting' }, 'down'],
    [200, { state: 'failed' }, 'gone'],
    [200, { state: 'stopped' }, 'gone'],
    [404, { message: 'no desktop' }, 'gone'],
    [503, { message: 'x' }, 'down'],
    [0, undefined, 'down'],
    [200, 'not an object', 'down']
  ])('%s %j -> %s', (status, body, result) => {
    expect(probeResultFor(status, body)).toBe(result);
  });
});

describe('Reconnector', () => {
  it('shows the state while the client retries by itself, without probing', async () => {
    const { timers, probe, r } = setup([]);
    r.established();
    r.lost(false);
    expect(r.state).toBe('reconnecting');
    expect(timers.delay).toBe(20000); // only a safety net
    r.established();
    expect(r.state).toBe('connected');
    expect(timers.pending.size).toBe(0);
    expect(probe).not.toHaveBeenCalled();
  });

  it('probes with backoff after the client gave up, reloads when the desktop answers', async () => {
    const { timers, probe, reload, r, states } = setup(['down', 'down', 'up']);
    r.established();
    r.lost(false);
    r.lost(true); // connect.html
    expect(timers.delay).toBe(500);
    await timers.fire();
    expect(timers.delay).toBe(1000);
    await timers.fire();
    expect(timers.delay).toBe(2000);
    expect(reload).not.toHaveBeenCalled();
    await timers.fire();
    expect(probe).toHaveBeenCalledTimes(3);
    expect(reload).toHaveBeenCalledTimes(1);
    expect(r.state).toBe('reconnecting');
    r.established();
    expect(states[states.length - 1]).toBe('connected');
    expect(r.lostSince).toBeNull();
  });

  it('a reloaded client that gives up again is probed again', async () => {
    const { timers, reload, r } = setup(['up', 'up']);
    r.lost(true);
    await timers.fire();
    expect(reload).toHaveBeenCalledTimes(1);
    r.lost(true);
    await timers.fire();
    expect(reload).toHaveBeenCalledTimes(2);
  });

  it('ends when the desktop is gone, and stays ended', async () => {
    const { timers, reload, r } = setup(['down', 'gone']);
    r.lost(true);
    await timers.fire();
    await timers.fire();
    expect(r.state).toBe('ended');
    expect(timers.pending.size).toBe(0);
    r.lost(true);
    r.established();
    expect(r.state).toBe('ended');
    expect(reload).not.toHaveBeenCalled();
  });

  it('a failing probe counts as down; retryNow probes at once; dispose stops', async () => {
    const timers = new FakeTimers();
    const probe = jest.fn(() => Promise.reject(new Error('offline')));
    const r = new Reconnector({ probe, reload: jest.fn(), timers });
    r.lost(true);
    await timers.fire();
    expect(r.state).toBe('reconnecting');
    expect(r.attempts).toBe(1);
    r.retryNow();
    expect(timers.delay).toBe(0);
    r.dispose();
    expect(timers.pending.size).toBe(0);
  });
});
