import { LabIcon } from '@jupyterlab/ui-components';

import desktopSvg from '../style/icons/desktop.svg';

/** A small monitor: the launcher card, tabs, menus and the running sidebar. */
export const desktopIcon = new LabIcon({
  name: 'miniswan-desktop:desktop',
  svgstr: desktopSvg
});
