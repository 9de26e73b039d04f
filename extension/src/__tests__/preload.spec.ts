/**
 * The client's files fetched ahead (preload.ts). What is faked: the server's answer and
 * the browser's fetch of each file.
 */
import { preloadClient } from '../preload';

function answer(body: unknown, status = 200): Response {
  return {
    ok: status >= 200 && status < 300,
    status,
    json: async () => body
  } as unknown as Response;
}

describe('preloadClient', () => {
  it('fetches each listed file of this server, one after the other', async () => {
    const order: string[] = [];
    let inFlight = 0;
    const fetchFile = jest.fn(async (url: string) => {
      inFlight += 1;
      expect(inFlight).toBe(1);
      await new Promise(resolve => setTimeout(resolve, 1));
      order.push(url);
      inFlight -= 1;
    });
    const preload = [
      '/user/a/desktops/client/v1/index.html',
      '/user/a/desktops/client/v1/js/miniswan-client.js',
      'https://elsewhere.example/x.js',
      '//elsewhere.example/y.js'
    ];
    const fetched = await preloadClient({
      list: async () => answer({ preload }),
      fetchFile
    });
    expect(fetched).toEqual(preload.slice(0, 2));
    expect(order).toEqual(preload.slice(0, 2));
  });

  it('fetches nothing and throws nothing when the server cannot say', async () => {
    const fetchFile = jest.fn();
    await expect(
      preloadClient({ list: async () => answer({}, 404), fetchFile })
    ).resolves.toEqual([]);
    await expect(
      preloadClient({
        list: async () => {
          throw new Error('offline');
        },
        fetchFile
      })
    ).resolves.toEqual([]);
    expect(fetchFile).not.toHaveBeenCalled();
  });
});
