/**
 * Shared constants and types: the server's desktop JSON, its events, command ids.
 */

/** The plugin id prefix, also the npm package and labextension name. */
export const PLUGIN_ID = 'miniswan-desktop';

/** `$id` of the server's desktop state event schema. */
export const EVENT_SCHEMA_ID = 'https://events.miniswan.org/desktop/state/v1';

/** Desktop states, in the order a desktop goes through them. */
export type DesktopState = 'starting' | 'running' | 'stopped' | 'failed';

export const DESKTOP_STATES: readonly DesktopState[] = [
  'starting',
  'running',
  'stopped',
  'failed'
];

/** A desktop as the REST API returns it (`desktops/api/desktops[/<id>]`). */
export interface IDesktop {
  id: string;
  name: string;
  state: DesktopState;
  /** ISO 8601 creation time; empty when only known from an event. */
  created: string;
  /** Path to the Xpra HTML5 client, `<base_url>desktops/<id>/` (trailing slash). */
  url: string;
  /** The server's cached copy of the client page (empty or absent: load it from `url`). */
  client_url?: string;
  pid: number | null;
  geometry: string;
  exit_status: number | null;
  log_tail: string[];
  reason: string;
  /** XKB keyboard layout and variant (keyboard.ts); absent from older servers. */
  layout?: string;
  variant?: string;
  /** The application this session runs alone (its id), null or absent: a desktop. */
  app?: string | null;
}

/** A program of the server's software stack (`desktops/api/applications`). */
export interface IApplication {
  id: string;
  name: string;
  description: string;
  /** The icon's SVG text; empty: the generic one. */
  icon_svg: string;
  /** Whether it draws with OpenGL. */
  gl: boolean;
}

/** The data of one `desktop/state/v1` event. */
export interface IDesktopEvent {
  schema_id: string;
  id: string;
  name: string;
  state: DesktopState;
  reason: string;
  url: string;
}

/** Options to create a desktop (POST body). */
export interface ICreateOptions {
  name?: string;
  geometry?: string;
  layout?: string;
  variant?: string;
  /** An application id: a session that runs that program alone. */
  app?: string;
}

/** Command ids (stable: browser tests and users' shortcuts use them). */
export namespace CommandIDs {
  export const create = 'miniswan-desktop:create';
  /** Start an application of the software stack (args: `{app: id}`). */
  export const openApp = 'miniswan-desktop:open-app';
  export const open = 'miniswan-desktop:open';
  export const openTab = 'miniswan-desktop:open-tab';
  export const shutdown = 'miniswan-desktop:shutdown';
  export const shutdownAll = 'miniswan-desktop:shutdown-all';
}
