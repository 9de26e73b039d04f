/**
 * Entry point of the desktop-only page's bundle (webpack.page.config.js ->
 * miniswan_desktop/standalone/static/page.js): reads what the server wrote into the page
 * and starts the page (desktoppage.ts).
 */
import { DesktopPage, IPageData } from './desktoppage';

const data = JSON.parse(
  document.getElementById('miniswan-page-data')?.textContent || '{}'
) as IPageData;

void new DesktopPage({
  document,
  data,
  fetch: (url, init) => window.fetch(url, init),
  navigator: navigator as any
}).start();
