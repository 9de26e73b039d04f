/**
 * The "Desktops" section of the Running Sessions sidebar (JupyterLab) and of the
 * Running tab (Notebook 7).
 */
import { IRunningSessionManagers, IRunningSessions } from '@jupyterlab/running';
import { LabIcon } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { IDisposable } from '@lumino/disposable';
import * as React from 'react';

import { desktopIcon } from './icons';
import { DesktopModel } from './model';
import { CommandIDs, IDesktop } from './tokens';

/** Title of each item's shut-down button (a stable hook for browser tests). */
export const SHUTDOWN_LABEL = 'Shut Down Desktop';

class DesktopItem implements IRunningSessions.IRunningItem {
  constructor(
    private _desktop: IDesktop,
    private _commands: CommandRegistry,
    private _icon: (app: string | null | undefined) => LabIcon
  ) {
    this.className = `miniswan-RunningDesktop miniswan-mod-${_desktop.state}`;
  }

  readonly className: string;

  readonly context = 'miniswan-desktop';

  open(): void {
    void this._commands.execute(CommandIDs.open, { id: this._desktop.id });
  }

  shutdown(): void {
    void this._commands.execute(CommandIDs.shutdown, { id: this._desktop.id });
  }

  icon() {
    return this._icon(this._desktop.app);
  }

  label(): React.ReactNode {
    const { id, name, state } = this._desktop;
    return React.createElement(
      'span',
      {
        className: 'miniswan-RunningDesktop-label',
        'data-desktop-id': id,
        'data-state': state,
        'data-app': this._desktop.app || undefined
      },
      name
    );
  }

  labelTitle(): string {
    const { name, state, reason, geometry } = this._desktop;
    const details = [state, geometry, reason].filter(Boolean).join(', ');
    return `${name} (${details})\nClick to open`;
  }

  detail(): string {
    return this._desktop.state;
  }
}

/** Register the section; its items follow the model. */
export function addRunningManager(
  managers: IRunningSessionManagers,
  model: DesktopModel,
  commands: CommandRegistry,
  icon: (app: string | null | undefined) => LabIcon = () => desktopIcon
): IDisposable {
  return managers.add({
    name: 'Desktops',
    supportsMultipleViews: false,
    running: () => model.desktops.map(d => new DesktopItem(d, commands, icon)),
    // the sidebar already asked for confirmation
    shutdownAll: () =>
      void commands.execute(CommandIDs.shutdownAll, { confirm: false }),
    refreshRunning: () =>
      void model.refresh().catch(error => {
        console.warn('miniswan-desktop: could not list desktops', error);
      }),
    runningChanged: model.changed,
    shutdownLabel: SHUTDOWN_LABEL,
    shutdownAllLabel: 'Shut Down All',
    shutdownAllConfirmationText:
      'Are you sure you want to shut down all desktops? The programs running in them are closed and their unsaved work is lost.'
  });
}
