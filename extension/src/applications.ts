/**
 * The software stack's applications (GUI programs that a session runs alone): their list,
 * their icons, and their items in the Launcher, the command palette and File > New.
 */
import type { ICommandPalette } from '@jupyterlab/apputils';
import type { ILauncher } from '@jupyterlab/launcher';
import type { IMainMenu } from '@jupyterlab/mainmenu';
import { LabIcon } from '@jupyterlab/ui-components';

import { desktopIcon } from './icons';
import { CommandIDs, IApplication } from './tokens';

/** The Launcher's section for them. */
export const LAUNCHER_CATEGORY = 'Applications';

/** The applications by id, with an icon each (the generic one when they bring none). */
export class ApplicationCatalog {
  constructor(apps: IApplication[] = []) {
    this.update(apps);
  }

  /** Take the server's list (anything that is not an application is left out). */
  update(apps: IApplication[]): void {
    this._apps.clear();
    for (const app of Array.isArray(apps) ? apps : []) {
      if (app && typeof app.id === 'string' && typeof app.name === 'string') {
        this._apps.set(app.id, app);
      }
    }
  }

  /** In the server's order (the stack's). */
  get all(): IApplication[] {
    return Array.from(this._apps.values());
  }

  get(id: string | null | undefined): IApplication | undefined {
    return id ? this._apps.get(id) : undefined;
  }

  /** The icon of an application (of a session running one); a desktop's otherwise. */
  icon(id: string | null | undefined): LabIcon {
    const app = this.get(id);
    if (!app?.icon_svg) {
      return desktopIcon;
    }
    let icon = this._icons.get(app.id);
    if (!icon) {
      try {
        icon = new LabIcon({
          name: `miniswan-desktop:app-${app.id}`,
          svgstr: app.icon_svg
        });
      } catch {
        icon = desktopIcon; // not an SVG LabIcon can read
      }
      this._icons.set(app.id, icon);
    }
    return icon;
  }

  private _apps = new Map<string, IApplication>();
  private _icons = new Map<string, LabIcon>();
}

/** Where the applications are offered (each optional: Notebook 7 has no Launcher). */
export interface IApplicationPlaces {
  launcher?: ILauncher | null;
  palette?: ICommandPalette | null;
  mainMenu?: IMainMenu | null;
}

/** Offer each application in the Launcher (its own section), palette and File > New. */
export function addApplicationItems(
  catalog: ApplicationCatalog,
  places: IApplicationPlaces
): void {
  const apps = catalog.all;
  apps.forEach((app, rank) => {
    const args = { app: app.id };
    places.launcher?.add({
      command: CommandIDs.openApp,
      args,
      category: LAUNCHER_CATEGORY,
      rank
    });
    places.palette?.addItem({
      command: CommandIDs.openApp,
      args: { ...args, isPalette: true },
      category: LAUNCHER_CATEGORY
    });
  });
  if (places.mainMenu && apps.length > 0) {
    places.mainMenu.fileMenu.newMenu.addGroup(
      apps.map(app => ({ command: CommandIDs.openApp, args: { app: app.id } })),
      // after "Desktop" (rank 60 in schema/plugin.json)
      61
    );
  }
}
