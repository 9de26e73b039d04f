/**
 * The plugins: desktops in JupyterLab (launcher, File > New, palette, main-area panels,
 * Running sidebar, live updates) and "New > Desktop" in Notebook 7's tree page.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { IRunningSessionManagers } from '@jupyterlab/running';

import { ApplicationCatalog, addApplicationItems } from './applications';
import { addCommands } from './commands';
import { DesktopModel } from './model';
import { DesktopPanel } from './panel';
import { DesktopAPI, fetchApplications, keyboardAPI } from './request';
import { addRunningManager } from './running';
import { CommandIDs, IDesktop, PLUGIN_ID } from './tokens';
import { INewItem, addToTreeNewMenu } from './tree';
import { IKeyboardLayout, ILayoutInfo, detectLayout } from './keyboard';
import { layoutToUse } from './keyboardapi';
import { KeyboardControl } from './keyboardcontrol';
import { PRELOAD_PATH, preloadClient } from './preload';
import { xpraClientUrl } from './xpra';

/** Notebook 7 sets `notebookPage` (tree, notebooks, edit, ...); JupyterLab does not. */
function notebookPage(): string {
  return PageConfig.getOption('notebookPage');
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: `${PLUGIN_ID}:plugin`,
  description: 'Xpra desktops: launcher, menus, panels, Running sidebar.',
  autoStart: true,
  optional: [
    ILauncher,
    ICommandPalette,
    ILayoutRestorer,
    IRunningSessionManagers,
    IMainMenu
  ],
  activate: (
    app: JupyterFrontEnd,
    launcher: ILauncher | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    running: IRunningSessionManagers | null,
    mainMenu: IMainMenu | null
  ): void => {
    const model = new DesktopModel({
      api: new DesktopAPI(app.serviceManager.serverSettings)
    });
    const tracker = new WidgetTracker<DesktopPanel>({ namespace: PLUGIN_ID });
    // keyboard layout (keyboardapi.ts, as on the desktop-only page): the user's kept
    // choice, in their home on the server, else what the browser says
    const settings = app.serviceManager.serverSettings;
    const keyboardApi = keyboardAPI(settings);
    // The client's files into the browser's cache once JupyterLab has loaded (preload.ts):
    // a user can click "Desktop" as soon as the Launcher shows.
    void app.restored.then(() =>
      preloadClient({
        list: () =>
          ServerConnection.makeRequest(
            URLExt.join(settings.baseUrl, PRELOAD_PATH),
            {},
            settings
          )
      })
    );
    const detected = detectLayout();
    // asked at each new desktop: the choice may have changed in another tab or session
    const userLayout = async (): Promise<IKeyboardLayout> =>
      (await layoutToUse(await keyboardApi.choice(), () => detected)).value;
    model.createDefaults = async () => ({ ...(await userLayout()) });
    const clientUrl = (desktop: IDesktop) =>
      xpraClientUrl(desktop.url, desktop.layout, undefined, desktop.client_url);
    let layouts: Promise<ILayoutInfo[]> | null = null;
    const keyboard = new KeyboardControl({
      model,
      layouts: () => (layouts ??= keyboardApi.layouts()),
      api: keyboardApi,
      detected: () => detected
    });
    tracker.widgetAdded.connect((_, panel) => {
      panel.toolbar.addItem('keyboard', keyboard.attach(panel.content));
    });

    const applications = new ApplicationCatalog();
    addCommands(app, {
      model,
      tracker,
      clientUrl,
      // Notebook 7 has no main area to hold desktops: use browser tabs
      openInBrowserTab: !!notebookPage(),
      applications
    });
    // the software stack's applications: in the Launcher once the server has listed them
    fetchApplications(app.serviceManager.serverSettings)
      .then(apps => {
        applications.update(apps);
        addApplicationItems(applications, { launcher, palette, mainMenu });
      })
      .catch(error => {
        console.warn(
          'miniswan-desktop: could not list the applications',
          error
        );
      });

    if (launcher) {
      launcher.add({ command: CommandIDs.create, category: 'Other', rank: 0 });
    }
    if (palette) {
      const category = 'Desktops';
      palette.addItem({
        command: CommandIDs.create,
        category,
        args: { isPalette: true }
      });
      palette.addItem({ command: CommandIDs.openTab, category });
      palette.addItem({ command: CommandIDs.shutdown, category });
      palette.addItem({ command: CommandIDs.shutdownAll, category });
    }
    if (restorer) {
      void restorer.restore(tracker, {
        command: CommandIDs.open,
        args: panel => ({ id: panel.desktopId }),
        name: panel => panel.desktopId
      });
    }
    if (running) {
      addRunningManager(running, model, app.commands, id =>
        applications.icon(id)
      );
    }

    // an application session that ended (its program exited, or another tab stopped it):
    // its panels close, and the server's word on it (an event, not our own stop) is shown
    model.stateChanged.connect((_, change) => {
      const { desktop, previous, source } = change;
      if (!desktop.app || desktop.state !== 'stopped') {
        return;
      }
      if (previous !== 'stopped') {
        tracker.find(panel => panel.desktopId === desktop.id)?.dispose();
      }
      if (source === 'event') {
        Notification.info(
          `“${desktop.name}” has ended${desktop.reason ? `: ${desktop.reason}` : ''}.`,
          { autoClose: 5000 }
        );
      }
    });

    model.failed.connect((_, desktop) => {
      Notification.error(
        `Desktop “${desktop.name}” failed: ${desktop.reason || 'no reason given'}`,
        { autoClose: false }
      );
    });

    // live updates: desktops created, started, failed or stopped anywhere
    const events = app.serviceManager.events;
    if (events) {
      events.stream.connect((_, event) => {
        model.applyEvent(event);
      });
    } else {
      console.warn('miniswan-desktop: no event stream, the list is not live');
    }
    model.refresh().catch(error => {
      console.warn('miniswan-desktop: could not list desktops', error);
    });
  }
};

const treeMenu: JupyterFrontEndPlugin<void> = {
  id: `${PLUGIN_ID}:tree-new-menu`,
  description:
    'Adds "Desktop" to the New dropdown of Notebook 7\'s file browser.',
  autoStart: true,
  optional: [IDefaultFileBrowser],
  activate: (app: JupyterFrontEnd, browser: IDefaultFileBrowser | null) => {
    if (notebookPage() !== 'tree' || !browser) {
      return;
    }
    // the stack's applications follow "Desktop" once the server has listed them
    let appItems: INewItem[] = [];
    addToTreeNewMenu(
      browser.toolbar,
      app.serviceManager.kernelspecs?.specsChanged ?? null,
      () => appItems
    );
    fetchApplications(app.serviceManager.serverSettings)
      .then(apps => {
        appItems = apps.map(a => ({
          command: CommandIDs.openApp,
          args: { app: a.id }
        }));
      })
      .catch(error => {
        console.warn(
          'miniswan-desktop: could not list the applications',
          error
        );
      });
  }
};

export default [plugin, treeMenu];
