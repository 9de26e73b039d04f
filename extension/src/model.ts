/**
 * The desktops known to this browser tab: REST results and server events merged into one
 * list, with signals. No DOM here.
 */
import { PromiseDelegate } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { IDesktopAPI } from './request';
import {
  DESKTOP_STATES,
  DesktopState,
  EVENT_SCHEMA_ID,
  ICreateOptions,
  IDesktop,
  IDesktopEvent
} from './tokens';

/** Where a piece of state came from. */
export type Source = 'event' | 'rest';

/** One desktop changed state (or appeared, or was forgotten). */
export interface IStateChange {
  /** The desktop as it is now (for a forgotten desktop: its last known state). */
  desktop: IDesktop;
  /** Its state before, or null if it was not known. */
  previous: DesktopState | null;
  source: Source;
}

/**
 * States only move forward: starting -> running -> stopped | failed. A snapshot that
 * arrives late (a POST answer after the `running` event) must not move a desktop back.
 */
export function stateRank(state: DesktopState): number {
  return state === 'starting' ? 0 : state === 'running' ? 1 : 2;
}

/** Whether `value` is a desktop state event of our schema, with the fields we need. */
export function isDesktopEvent(value: unknown): value is IDesktopEvent {
  if (!value || typeof value !== 'object') {
    return false;
  }
  const e = value as Record<string, unknown>;
  return (
    e.schema_id === EVENT_SCHEMA_ID &&
    typeof e.id === 'string' &&
    e.id.length > 0 &&
    typeof e.state === 'string' &&
    (DESKTOP_STATES as readonly string[]).includes(e.state)
  );
}

/** A desktop known only from an event, until its details are fetched. */
export function desktopFromEvent(event: IDesktopEvent): IDesktop {
  return {
    id: event.id,
    name: typeof event.name === 'string' && event.name ? event.name : event.id,
    state: event.state,
    created: '',
    url: typeof event.url === 'string' ? event.url : '',
    pid: null,
    geometry: '',
    exit_status: null,
    log_tail: [],
    reason: typeof event.reason === 'string' ? event.reason : ''
  };
}

function sameDesktop(a: IDesktop, b: IDesktop): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The list of desktops and the actions on them. */
export class DesktopModel implements IDisposable {
  constructor(options: DesktopModel.IOptions) {
    this._api = options.api;
  }

  /** Emitted after any change of the list (added, removed, a field changed). */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted for every state transition, including appearing and being forgotten. */
  get stateChanged(): ISignal<this, IStateChange> {
    return this._stateChanged;
  }

  /**
   * Emitted when a desktop this tab knew as active fails, or an event says one failed:
   * a failure to tell the user about (not old failures found in a listing).
   */
  get failed(): ISignal<this, IDesktop> {
    return this._failed;
  }

  /** Resolves once the first listing was applied or failed. */
  get ready(): Promise<void> {
    return this._ready.promise;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The desktops, oldest first. */
  get desktops(): IDesktop[] {
    return Array.from(this._desktops.values());
  }

  get(id: string): IDesktop | undefined {
    return this._desktops.get(id);
  }

  /** Whether this id was stopped and forgotten (it never comes back: ids are unique). */
  isForgotten(id: string): boolean {
    return this._forgotten.has(id);
  }

  /** Fetch the list from the server and apply it. */
  async refresh(): Promise<void> {
    try {
      this.applyList(await this._api.list());
    } finally {
      this._ready.resolve();
    }
  }

  /** Fetch one desktop and apply it; a 404 means it was forgotten meanwhile. */
  async fetch(id: string): Promise<IDesktop | undefined> {
    try {
      const desktop = await this._api.get(id);
      this.applyDesktop(desktop, 'rest');
    } catch (error) {
      if ((error as any)?.response?.status === 404) {
        this.forget(id, 'rest');
      } else {
        throw error;
      }
    }
    return this.get(id);
  }

  /**
   * The desktop once it has left `starting` (running, or stopped or failed), undefined if
   * the server forgot it or `timeoutMs` passed. Follows the model's changes (events) and
   * asks the server every `pollMs` besides.
   *
   * A client page must not be opened before: its websocket would wait in the server's
   * proxy for the start, and xpra 3.1 sometimes leaves such a client with a blank screen.
   */
  async whenStarted(
    id: string,
    timeoutMs = 60000,
    pollMs = 1000
  ): Promise<IDesktop | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const desktop = this.get(id);
      if (!desktop || desktop.state !== 'starting') {
        return desktop;
      }
      if (Date.now() >= deadline) {
        return undefined;
      }
      await new Promise<void>(resolve => {
        const done = (): void => {
          clearTimeout(timer);
          this._changed.disconnect(done);
          resolve();
        };
        const timer = setTimeout(() => {
          void this.fetch(id)
            .catch(() => undefined)
            .then(done);
        }, pollMs);
        this._changed.connect(done);
      });
    }
  }

  /**
   * Fields every create request gets unless it names them: the user's keyboard layout
   * (set by the plugin from its settings and the browser, see keyboard.ts).
   */
  createDefaults: () => Promise<ICreateOptions> | ICreateOptions = () => ({});

  /** Create a desktop (state `starting`). */
  async create(options: ICreateOptions = {}): Promise<IDesktop> {
    options = { ...(await this.createDefaults()), ...options };
    const desktop = await this._api.create(options);
    this.applyDesktop(desktop, 'rest');
    return this.get(desktop.id) ?? desktop;
  }

  /** Change a desktop's keyboard layout; returns it as the server has it now. */
  async setLayout(
    id: string,
    layout: string,
    variant = ''
  ): Promise<IDesktop | undefined> {
    if (!this._api.update) {
      throw new Error('this server cannot change keyboard layouts');
    }
    this.applyDesktop(await this._api.update(id, { layout, variant }), 'rest');
    return this.get(id);
  }

  /** Stop a desktop; the server forgets it. */
  async shutdown(id: string): Promise<void> {
    try {
      const final = await this._api.shutdown(id);
      this.forget(id, 'rest', final);
    } catch (error) {
      if ((error as any)?.response?.status === 404) {
        this.forget(id, 'rest');
        return;
      }
      throw error;
    }
  }

  /** Stop and forget all desktops. */
  async shutdownAll(): Promise<void> {
    const finals = await this._api.shutdownAll();
    for (const final of finals) {
      this.forget(final.id, 'rest', final);
    }
    // Anything else listed here is gone from the server too.
    for (const id of Array.from(this._desktops.keys())) {
      this.forget(id, 'rest');
    }
  }

  /**
   * Apply a complete listing: add and update what it holds, drop what it lacks.
   * Failures found this way are not announced (they may be old).
   */
  applyList(list: IDesktop[]): void {
    if (!Array.isArray(list)) {
      // Not a listing: forgetting every desktop on it would be wrong.
      throw new Error(`expected a list of desktops, got ${typeof list}`);
    }
    const seen = new Set<string>();
    this._batch(() => {
      for (const desktop of list) {
        seen.add(desktop.id);
        this.applyDesktop(desktop, 'rest');
      }
      for (const id of Array.from(this._desktops.keys())) {
        if (!seen.has(id)) {
          this.forget(id, 'rest');
        }
      }
    });
  }

  /** Apply one desktop snapshot (REST answer, or built from an event). */
  applyDesktop(desktop: IDesktop, source: Source): void {
    if (this._forgotten.has(desktop.id)) {
      return;
    }
    if (desktop.state === 'stopped') {
      this.forget(desktop.id, source, desktop);
      return;
    }
    const old = this._desktops.get(desktop.id);
    let next = desktop;
    if (old) {
      if (stateRank(desktop.state) < stateRank(old.state)) {
        // a late snapshot: keep the newer state and what only it knows
        next = {
          ...desktop,
          state: old.state,
          reason: old.reason,
          exit_status: old.exit_status,
          log_tail: old.log_tail
        };
      } else if (source === 'event') {
        // an event has fewer fields: keep the details we know
        next = {
          ...old,
          name: desktop.name,
          state: desktop.state,
          reason: desktop.reason,
          url: desktop.url || old.url
        };
      }
      if (sameDesktop(old, next)) {
        return;
      }
    }
    this._desktops.set(next.id, next);
    const previous = old ? old.state : null;
    if (previous !== next.state) {
      this._stateChanged.emit({ desktop: next, previous, source });
      if (
        next.state === 'failed' &&
        ((previous !== null && previous !== 'failed') ||
          (previous === null && source === 'event'))
      ) {
        this._failed.emit(next);
      }
    }
    this._emitChanged();
  }

  /**
   * Apply a server event. Returns false if it is not a desktop state event.
   * A desktop first seen in an event, or one that failed, gets its details fetched.
   */
  applyEvent(event: unknown): boolean {
    if (!isDesktopEvent(event)) {
      return false;
    }
    const known = this._desktops.has(event.id);
    this.applyDesktop(desktopFromEvent(event), 'event');
    const needDetails =
      this._desktops.has(event.id) && (!known || event.state === 'failed');
    if (needDetails) {
      this.fetch(event.id).catch(error => {
        console.warn(`miniswan-desktop: could not fetch ${event.id}`, error);
      });
    }
    return true;
  }

  /** Drop a desktop that the server no longer has. */
  forget(id: string, source: Source, final?: IDesktop): void {
    this._forgotten.add(id);
    const old = this._desktops.get(id);
    if (!old) {
      return;
    }
    this._desktops.delete(id);
    const last: IDesktop = final
      ? { ...old, ...final, state: final.state }
      : { ...old, state: old.state === 'failed' ? 'failed' : 'stopped' };
    if (last.state !== old.state || last.state === 'stopped') {
      this._stateChanged.emit({ desktop: last, previous: old.state, source });
    }
    this._emitChanged();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  private _batch(fn: () => void): void {
    this._batchDepth++;
    try {
      fn();
    } finally {
      this._batchDepth--;
    }
    if (this._batchDepth === 0 && this._pendingChanged) {
      this._pendingChanged = false;
      this._changed.emit();
    }
  }

  private _emitChanged(): void {
    if (this._batchDepth > 0) {
      this._pendingChanged = true;
    } else {
      this._changed.emit();
    }
  }

  private _api: IDesktopAPI;
  private _desktops = new Map<string, IDesktop>();
  private _forgotten = new Set<string>();
  private _isDisposed = false;
  private _batchDepth = 0;
  private _pendingChanged = false;
  private _ready = new PromiseDelegate<void>();
  private _changed = new Signal<this, void>(this);
  private _stateChanged = new Signal<this, IStateChange>(this);
  private _failed = new Signal<this, IDesktop>(this);
}

export namespace DesktopModel {
  export interface IOptions {
    api: IDesktopAPI;
  }
}
