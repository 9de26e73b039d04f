/**
 * The commands: create, open (panel or browser tab), shut down one, shut down all.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import {
  Dialog,
  Notification,
  WidgetTracker,
  showDialog
} from '@jupyterlab/apputils';
import { launchIcon, stopIcon } from '@jupyterlab/ui-components';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { ApplicationCatalog } from './applications';
import { desktopIcon } from './icons';
import { DesktopModel } from './model';
import { DesktopPanel } from './panel';
import { CommandIDs, ICreateOptions, IDesktop } from './tokens';
import { screenGeometry } from './xpra';

export interface ICommandsOptions {
  model: DesktopModel;
  tracker: WidgetTracker<DesktopPanel>;
  /** The Xpra client URL of a desktop, parameters included. */
  clientUrl: (desktop: IDesktop) => string;
  /** Open desktops in browser tabs (Notebook 7 has no main area for them). */
  openInBrowserTab: boolean;
  /** The software stack's applications (names, icons). */
  applications: ApplicationCatalog;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const ID_ARGS = {
  args: {
    type: 'object',
    properties: {
      id: {
        type: 'string',
        description: 'Desktop id (default: the current desktop panel)'
      }
    }
  }
};

const CONFIRM_ARGS = {
  args: {
    type: 'object',
    properties: {
      ...ID_ARGS.args.properties,
      confirm: {
        type: 'boolean',
        description: 'Ask before shutting down (default true)'
      }
    }
  }
};

export function addCommands(
  app: JupyterFrontEnd,
  options: ICommandsOptions
): void {
  const { commands, shell } = app;
  const { model, tracker, clientUrl, openInBrowserTab, applications } = options;

  const currentId = (args: ReadonlyPartialJSONObject): string | undefined =>
    (args.id as string | undefined) ?? tracker.currentWidget?.desktopId;

  /** The desktop, waiting for the first listing and asking the server if unknown. */
  const findDesktop = async (id: string): Promise<IDesktop | undefined> => {
    await model.ready;
    if (!model.get(id) && !model.isForgotten(id)) {
      await model.fetch(id).catch(() => undefined);
    }
    return model.get(id);
  };

  const openPanel = (id: string): DesktopPanel => {
    let panel = tracker.find(p => p.desktopId === id);
    if (!panel) {
      panel = new DesktopPanel({
        desktopId: id,
        model,
        clientUrl,
        commands,
        icon: desktop => applications.icon(desktop?.app)
      });
      void tracker.add(panel);
    }
    if (!panel.isAttached) {
      shell.add(panel, 'main');
    }
    shell.activateById(panel.id);
    return panel;
  };

  /**
   * Create a session (a desktop, or an application with `request.app`) and show it: in a
   * panel, or in a browser tab once it runs. Returns its id, undefined if it did not start.
   */
  const launch = async (
    request: ICreateOptions,
    explicitGeometry: boolean,
    what: string
  ): Promise<string | undefined> => {
    // open the tab now: a popup blocker allows it only in the click's own task
    const win = openInBrowserTab ? window.open('', '_blank') : null;
    let desktop: IDesktop;
    try {
      try {
        desktop = await model.create(request);
      } catch (error) {
        const status = (error as any)?.response?.status;
        if (explicitGeometry || !request.geometry || status !== 400) {
          throw error;
        }
        // larger than the server allows: take its default size
        const rest = { ...request };
        delete rest.geometry;
        desktop = await model.create(rest);
      }
    } catch (error) {
      win?.close();
      Notification.error(`Could not start ${what}: ${errorMessage(error)}`, {
        autoClose: 10000
      });
      return;
    }
    if (win) {
      // the tab shows the client once the desktop runs (model.whenStarted says why)
      const started = await model.whenStarted(desktop.id);
      if (started?.state !== 'running') {
        win.close();
        Notification.error(
          `“${desktop.name}” did not start: ${started?.reason || 'no answer'}`,
          { autoClose: 10000 }
        );
        return;
      }
      win.location.href = clientUrl(started);
      return desktop.id;
    }
    openPanel(desktop.id);
    return desktop.id;
  };

  /** The create request's size: the command's, else the display's (Xpra shrinks the
   * screen to the panel or tab, never grows it beyond what it started with). */
  const requestedGeometry = (
    args: ReadonlyPartialJSONObject
  ): [ICreateOptions, boolean] => {
    const explicit = typeof args.geometry === 'string' && !!args.geometry;
    const request: ICreateOptions = {
      geometry: explicit ? (args.geometry as string) : screenGeometry()
    };
    if (typeof args.name === 'string' && args.name) {
      request.name = args.name;
    }
    return [request, explicit];
  };

  commands.addCommand(CommandIDs.create, {
    label: args => (args.isPalette ? 'New Desktop' : 'Desktop'),
    caption: 'Start a new Xpra desktop (a Linux desktop in the browser)',
    icon: args => (args.isPalette ? undefined : desktopIcon),
    execute: async args => {
      const [request, explicit] = requestedGeometry(args);
      return launch(request, explicit, 'a desktop');
    },
    describedBy: {
      args: {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'Desktop name' },
          geometry: { type: 'string', description: 'Screen size, WxH' }
        }
      }
    }
  });

  commands.addCommand(CommandIDs.openApp, {
    label: args => {
      const name = applications.get(args.app as string)?.name ?? 'Application';
      return args.isPalette ? `Open ${name}` : name;
    },
    caption: args => {
      const found = applications.get(args.app as string);
      return found?.description || `Start ${found?.name ?? 'an application'}`;
    },
    icon: args => applications.icon(args.app as string),
    execute: async args => {
      const id = args.app as string | undefined;
      const found = id ? applications.get(id) : undefined;
      const [request, explicit] = requestedGeometry(args);
      // an id the list does not know goes to the server all the same: it says why not
      return launch(
        { ...request, app: id },
        explicit,
        found?.name ?? `“${id}”`
      );
    },
    describedBy: {
      args: {
        type: 'object',
        properties: {
          app: { type: 'string', description: 'Application id' },
          name: { type: 'string', description: 'Session name' },
          geometry: { type: 'string', description: 'Screen size, WxH' }
        },
        required: ['app']
      }
    }
  });

  commands.addCommand(CommandIDs.open, {
    label: args =>
      args.id
        ? `Open ${model.get(args.id as string)?.name ?? 'Desktop'}`
        : 'Open Desktop',
    icon: desktopIcon,
    describedBy: {
      args: {
        type: 'object',
        properties: {
          ...ID_ARGS.args.properties,
          newBrowserTab: { type: 'boolean' }
        },
        required: ['id']
      }
    },
    execute: async args => {
      const id = args.id as string | undefined;
      if (!id) {
        return;
      }
      const desktop = await findDesktop(id);
      if (!desktop) {
        Notification.warning(`Desktop ${id} does not exist any more.`, {
          autoClose: 5000
        });
        return;
      }
      if (openInBrowserTab || args.newBrowserTab) {
        window.open(clientUrl(desktop), '_blank');
        return;
      }
      return openPanel(id);
    }
  });

  commands.addCommand(CommandIDs.openTab, {
    label: args =>
      args.toolbar ? 'Open in Tab' : 'Open Desktop in New Browser Tab',
    caption: 'Open this desktop in a new browser tab',
    icon: launchIcon,
    describedBy: ID_ARGS,
    isEnabled: args => {
      const id = currentId(args);
      return !!id && !!model.get(id);
    },
    execute: args => {
      const id = currentId(args);
      const desktop = id ? model.get(id) : undefined;
      if (desktop) {
        window.open(clientUrl(desktop), '_blank');
      }
    }
  });

  commands.addCommand(CommandIDs.shutdown, {
    label: args => (args.toolbar ? 'Shut Down' : 'Shut Down Desktop'),
    caption: 'Shut down this desktop and close its programs',
    icon: args => (args.toolbar ? stopIcon : undefined),
    describedBy: CONFIRM_ARGS,
    isEnabled: args => {
      const id = currentId(args);
      return !!id && !!model.get(id);
    },
    execute: async args => {
      const id = currentId(args);
      const desktop = id ? model.get(id) : undefined;
      if (!id || !desktop) {
        return;
      }
      if (args.confirm !== false) {
        const result = await showDialog({
          title: 'Shut down desktop?',
          body: `Shut down “${desktop.name}”? Its programs are closed and their unsaved work is lost.`,
          buttons: [
            Dialog.cancelButton(),
            Dialog.warnButton({ label: 'Shut Down' })
          ]
        });
        if (!result.button.accept) {
          return;
        }
      }
      try {
        await model.shutdown(id);
      } catch (error) {
        Notification.error(
          `Could not shut down “${desktop.name}”: ${errorMessage(error)}`,
          { autoClose: 10000 }
        );
        return;
      }
      tracker.find(p => p.desktopId === id)?.dispose();
    }
  });

  commands.addCommand(CommandIDs.shutdownAll, {
    label: 'Shut Down All Desktops',
    caption: 'Shut down every desktop of this server',
    isEnabled: () => model.desktops.length > 0,
    describedBy: {
      args: {
        type: 'object',
        properties: { confirm: CONFIRM_ARGS.args.properties.confirm }
      }
    },
    execute: async args => {
      if (args.confirm !== false) {
        const result = await showDialog({
          title: 'Shut down all desktops?',
          body: 'Are you sure you want to shut down all desktops? The programs running in them are closed and their unsaved work is lost.',
          buttons: [
            Dialog.cancelButton(),
            Dialog.warnButton({ label: 'Shut Down All' })
          ]
        });
        if (!result.button.accept) {
          return;
        }
      }
      try {
        await model.shutdownAll();
      } catch (error) {
        Notification.error(
          `Could not shut down the desktops: ${errorMessage(error)}`,
          { autoClose: 10000 }
        );
        return;
      }
      const panels: DesktopPanel[] = [];
      tracker.forEach(panel => panels.push(panel));
      panels.forEach(panel => panel.dispose());
    }
  });
}
