/**
 * The one request helper for the server's REST API (`<base>/desktops/api/desktops`).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { DESKTOPS_PATH, KeyboardAPI } from './keyboardapi';
import { ProbeResult, probeWith } from './reconnect';
import { IApplication, ICreateOptions, IDesktop } from './tokens';

/** The REST API's path under the server's base URL. */
export const API_PATH = DESKTOPS_PATH;

/** Where the server lists its software stack's applications. */
export const APPLICATIONS_PATH = 'desktops/api/applications';

/**
 * Call the desktops REST API.
 *
 * @param endPoint path under `desktops/api/desktops` ('' for the collection)
 * @param settings the server connection settings
 * @param init fetch options (method, body)
 * @param apiPath the API below the base URL (default: the desktops)
 * @returns the parsed JSON body
 * @throws ServerConnection.ResponseError with the server's message on a non-2xx answer
 */
export async function requestAPI<T>(
  endPoint: string,
  settings: ServerConnection.ISettings,
  init: RequestInit = {},
  apiPath: string = API_PATH
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, apiPath, endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let data: any = undefined;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      // Not JSON: not our server's answer but someone else's page, e.g. the hub's while
      // the proxy has lost this server's route. A network error, not a verdict on desktops.
      throw new ServerConnection.NetworkError(
        new TypeError(
          `unexpected answer from ${url} (${response.status}, not JSON): is the server reachable?`
        )
      );
    }
  }
  if (!response.ok) {
    const message =
      (data && typeof data === 'object' && data.message) || response.statusText;
    throw new ServerConnection.ResponseError(response, message);
  }
  return data as T;
}

/** What the model needs from the server (an interface, so tests can fake it). */
export interface IDesktopAPI {
  list(): Promise<IDesktop[]>;
  get(id: string): Promise<IDesktop>;
  create(options?: ICreateOptions): Promise<IDesktop>;
  /** Change a desktop's keyboard layout (PATCH). */
  update?(
    id: string,
    change: { layout: string; variant: string }
  ): Promise<IDesktop>;
  shutdown(id: string): Promise<IDesktop>;
  shutdownAll(): Promise<IDesktop[]>;
}

/** The REST API client. */
/** The keyboard's API (keyboardapi.ts) through JupyterLab's ServerConnection. */
export function keyboardAPI(settings: ServerConnection.ISettings): KeyboardAPI {
  return new KeyboardAPI((path, init) =>
    ServerConnection.makeRequest(
      URLExt.join(settings.baseUrl, path),
      init ?? {},
      settings
    )
  );
}

export class DesktopAPI implements IDesktopAPI {
  constructor(settings?: ServerConnection.ISettings) {
    this.settings = settings ?? ServerConnection.makeSettings();
    this._keyboard = keyboardAPI(this.settings);
  }

  readonly settings: ServerConnection.ISettings;

  list(): Promise<IDesktop[]> {
    return requestAPI<IDesktop[]>('', this.settings);
  }

  get(id: string): Promise<IDesktop> {
    return requestAPI<IDesktop>(encodeURIComponent(id), this.settings);
  }

  create(options: ICreateOptions = {}): Promise<IDesktop> {
    return requestAPI<IDesktop>('', this.settings, {
      method: 'POST',
      body: JSON.stringify(options)
    });
  }

  /** Switch a desktop's keyboard layout: the keyboard API's call, as the page makes it. */
  update(
    id: string,
    change: { layout: string; variant: string }
  ): Promise<IDesktop> {
    return this._keyboard.switchDesktop<IDesktop>(id, change);
  }

  shutdown(id: string): Promise<IDesktop> {
    return requestAPI<IDesktop>(encodeURIComponent(id), this.settings, {
      method: 'DELETE'
    });
  }

  shutdownAll(): Promise<IDesktop[]> {
    return requestAPI<IDesktop[]>('', this.settings, { method: 'DELETE' });
  }

  private _keyboard: KeyboardAPI;
}

/** Each server's list, asked for once per page: the JupyterLab plugin and Notebook 7's
 * New menu both want it, and the stack does not change while the server runs. */
const applicationLists = new Map<string, Promise<IApplication[]>>();

/** The applications the server's software stack offers (none if it cannot say). */
export function fetchApplications(
  settings: ServerConnection.ISettings
): Promise<IApplication[]> {
  let list = applicationLists.get(settings.baseUrl);
  if (!list) {
    list = requestAPI<IApplication[]>('', settings, {}, APPLICATIONS_PATH).then(
      apps => (Array.isArray(apps) ? apps : [])
    );
    // a failed answer is not kept: the next caller asks again
    list.catch(() => applicationLists.delete(settings.baseUrl));
    applicationLists.set(settings.baseUrl, list);
  }
  return list;
}

/** One look at a desktop for the reconnect loop (reconnect.ts), through the REST API. */
export function probeDesktop(
  settings: ServerConnection.ISettings,
  desktopId: string,
  timeoutMs = 5000
): Promise<ProbeResult> {
  const url = URLExt.join(
    settings.baseUrl,
    API_PATH,
    encodeURIComponent(desktopId)
  );
  return probeWith(
    init => ServerConnection.makeRequest(url, init, settings),
    timeoutMs
  );
}
