/**
 * Reconnecting a desktop's client after its connection dropped (proxy restart, network
 * blip, laptop sleep), owned by the page that shows the client rather than by the client.
 *
 * Why not the client alone: Xpra 3.1's HTML5 client retries 5 times, 1 s apart, then gives
 * up and navigates to its connect.html; the hub re-adds a restarted proxy's routes only
 * every `last_activity_interval` (10 s here). So the page watches the client (its
 * `connection-lost` / `connection-established` events, its landing on connect.html),
 * probes the desktop through the REST API with a backoff, reloads the client once the
 * desktop answers again, and says so when the desktop is really gone.
 *
 * No DOM and no JupyterLab here (tests drive it with fake probes and timers): the panel and
 * the desktop-only page share it.
 */
/** What the panel shows about the client's connection. */
export type ConnectionState =
  'connecting' | 'connected' | 'reconnecting' | 'ended';

/**
 * One look at the desktop: `up` (running and reachable: reload the client), `down` (not
 * reachable now, or still starting: try again later), `gone` (stopped, failed or unknown
 * to the server: the session ended).
 */
export type ProbeResult = 'up' | 'down' | 'gone';

/** Pause before probe number `attempt` (0-based): 0.5 s, 1 s, 2 s, 4 s, then `max`. */
export function backoffDelay(attempt: number, base = 500, max = 5000): number {
  return Math.min(max, base * 2 ** Math.max(0, attempt));
}

/** What a desktop's JSON (or its absence) says about reconnecting to it. */
export function probeResultFor(status: number, body: unknown): ProbeResult {
  if (status === 404) {
    return 'gone';
  }
  if (status < 200 || status >= 300 || !body || typeof body !== 'object') {
    return 'down';
  }
  const state = (body as { state?: unknown }).state;
  if (state === 'running') {
    return 'up';
  }
  return state === 'starting' ? 'down' : 'gone';
}

/**
 * Ask the server about one desktop, quickly: no redirects followed (while the proxy has
 * lost the server's route, the hub answers with redirects that it delays on purpose) and a
 * timeout. Anything but a JSON answer from our server is `down`. `send` makes the request
 * with the options given (the panel through JupyterLab's ServerConnection, request.ts; the
 * desktop-only page with `fetch`, standalone.ts).
 */
export async function probeWith(
  send: (init: RequestInit) => Promise<Response>,
  timeoutMs = 5000
): Promise<ProbeResult> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const response = await send({
      redirect: 'manual',
      cache: 'no-store',
      signal: abort.signal
    });
    if (response.type === 'opaqueredirect') {
      return 'down';
    }
    let body: unknown = undefined;
    try {
      body = JSON.parse(await response.text());
    } catch {
      return 'down'; // someone else's page (the hub's), not our server's answer
    }
    return probeResultFor(response.status, body);
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/** Timers, injectable for tests. */
export interface ITimers {
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(handle: number): void;
  now(): number;
}

const WINDOW_TIMERS: ITimers = {
  setTimeout: (fn, ms) => window.setTimeout(fn, ms),
  clearTimeout: handle => window.clearTimeout(handle),
  now: () => Date.now()
};

/** The loop: lost -> probe (backoff) -> reload -> established, or ended. */
export class Reconnector {
  constructor(options: Reconnector.IOptions) {
    this._probe = options.probe;
    this._reload = options.reload;
    this._onChange = options.onChange;
    this._timers = options.timers ?? WINDOW_TIMERS;
    this._reloadGraceMs = options.reloadGraceMs ?? 20000;
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** Consecutive failed probes since the connection was lost. */
  get attempts(): number {
    return this._attempts;
  }

  /** When the connection was lost (ms since the epoch), or null while connected. */
  get lostSince(): number | null {
    return this._lostSince;
  }

  /** The client connected (its `connection-established`): stop any loop. */
  established(): void {
    if (this._state === 'ended' || this._disposed) {
      return;
    }
    this._cancel();
    this._attempts = 0;
    this._lostSince = null;
    this._set('connected');
  }

  /**
   * The client lost its connection (`connection-lost`) or gave up (connect.html). While
   * the client retries by itself this only shows the state; `gaveUp` starts probing.
   */
  lost(gaveUp: boolean): void {
    if (this._state === 'ended' || this._disposed) {
      return;
    }
    if (this._lostSince === null) {
      this._lostSince = this._timers.now();
    }
    this._set('reconnecting');
    if (gaveUp) {
      this._schedule(this._attempts);
    } else if (this._timer === null) {
      // the client retries for ~5 s; if it neither connects nor gives up, step in
      this._schedule(this._attempts, this._reloadGraceMs);
    }
  }

  /** Probe now (a "Retry now" button). */
  retryNow(): void {
    if (this._state === 'reconnecting') {
      this._schedule(this._attempts, 0);
    }
  }

  /** The desktop is known to be gone (the model says so): stop for good. */
  end(): void {
    this._cancel();
    this._set('ended');
  }

  dispose(): void {
    this._disposed = true;
    this._cancel();
  }

  private _schedule(attempt: number, delay = backoffDelay(attempt)): void {
    this._cancel();
    this._timer = this._timers.setTimeout(() => {
      this._timer = null;
      void this._run();
    }, delay);
  }

  private async _run(): Promise<void> {
    if (this._disposed || this._state !== 'reconnecting') {
      return;
    }
    const result = await this._probe().catch((): ProbeResult => 'down');
    if (this._disposed || this._state !== 'reconnecting') {
      return;
    }
    if (result === 'gone') {
      this.end();
    } else if (result === 'up') {
      this._reload();
      // connect.html (gave up) or connection-established will follow; if neither does
      // (the page never loaded), probe again after the grace period
      this._schedule(++this._attempts, this._reloadGraceMs);
    } else {
      this._schedule(++this._attempts);
    }
    this._onChange?.(this._state);
  }

  private _cancel(): void {
    if (this._timer !== null) {
      this._timers.clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _set(state: ConnectionState): void {
    if (this._state !== state) {
      this._state = state;
      this._onChange?.(state);
    }
  }

  private _probe: () => Promise<ProbeResult>;
  private _reload: () => void;
  private _onChange?: (state: ConnectionState) => void;
  private _timers: ITimers;
  private _reloadGraceMs: number;
  private _state: ConnectionState = 'connecting';
  private _attempts = 0;
  private _lostSince: number | null = null;
  private _timer: number | null = null;
  private _disposed = false;
}

export namespace Reconnector {
  export interface IOptions {
    /** Look at the desktop (e.g. `probeDesktop`). */
    probe: () => Promise<ProbeResult>;
    /** Load the client again. */
    reload: () => void;
    /** Called on every state change and after every probe. */
    onChange?: (state: ConnectionState) => void;
    timers?: ITimers;
    /** How long a reloaded client may take to connect or give up (default 20 s). */
    reloadGraceMs?: number;
  }
}
