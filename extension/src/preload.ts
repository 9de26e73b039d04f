/**
 * The Xpra client's files fetched ahead, once JupyterLab has loaded, into the browser's
 * cache: the first desktop of a browser then opens without loading them (its page and a
 * script bundle of ~0.7 MB gzipped, about 0.3 s of a first "Desktop" click on the
 * benchmark's machine). The server lists them (`desktops/api/client`); they are served
 * with versioned URLs and cached for a year, so a browser fetches them once per client
 * version. Nothing is shown, and a failure only means the first click loads them itself.
 */

/** Where the server lists what may be fetched ahead, below its base URL. */
export const PRELOAD_PATH = 'desktops/api/client';

export interface IPreloadOptions {
  /** Ask the server for the list (`PRELOAD_PATH`). */
  list: () => Promise<Response>;
  /** Fetch one file (an absolute path on this origin) into the browser's cache. */
  fetchFile?: (url: string) => Promise<unknown>;
}

/** Fetch the listed files one after the other; the URLs fetched. Never throws. */
export async function preloadClient(
  options: IPreloadOptions
): Promise<string[]> {
  const fetchFile =
    options.fetchFile ??
    ((url: string) => fetch(url, { credentials: 'same-origin' }));
  const fetched: string[] = [];
  try {
    const response = await options.list();
    if (!response.ok) {
      return fetched;
    }
    const data = await response.json();
    const urls: unknown[] = Array.isArray(data?.preload) ? data.preload : [];
    for (const url of urls) {
      if (typeof url !== 'string' || !/^\/(?!\/)/.test(url)) {
        continue; // only paths of this server
      }
      // one at a time: JupyterLab's own requests keep their share of the connections
      await fetchFile(url);
      fetched.push(url);
    }
  } catch (error) {
    console.debug('miniswan-desktop: the client was not fetched ahead', error);
  }
  return fetched;
}
