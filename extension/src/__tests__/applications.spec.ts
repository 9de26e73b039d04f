/**
 * The software stack's applications as the frontend offers them, with fake Launcher,
 * palette and main menu (the real JupyterLab is exercised by the e2e suite).
 */
import {
  ApplicationCatalog,
  LAUNCHER_CATEGORY,
  addApplicationItems
} from '../applications';
import { desktopIcon } from '../icons';
import { CommandIDs, IApplication } from '../tokens';

const SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><rect width="9" height="9"/></svg>';

function app(id: string, fields: Partial<IApplication> = {}): IApplication {
  return {
    id,
    name: id.toUpperCase(),
    description: '',
    icon_svg: '',
    gl: false,
    ...fields
  };
}

describe('ApplicationCatalog', () => {
  it('keeps the server order and leaves out what is not an application', () => {
    const catalog = new ApplicationCatalog([
      app('viewer'),
      { name: 'no id' } as any,
      app('plots')
    ]);
    expect(catalog.all.map(a => a.id)).toEqual(['viewer', 'plots']);
    expect(catalog.get('plots')?.name).toBe('PLOTS');
    expect(catalog.get(null)).toBeUndefined();
    catalog.update('not a list' as any);
    expect(catalog.all).toEqual([]);
  });

  it('gives an application its own icon, a desktop and an icon-less app the generic one', () => {
    const catalog = new ApplicationCatalog([
      app('viewer', { icon_svg: SVG }),
      app('plots')
    ]);
    const icon = catalog.icon('viewer');
    expect(icon).not.toBe(desktopIcon);
    expect(icon.svgstr).toContain('<rect');
    expect(catalog.icon('viewer')).toBe(icon); // made once
    expect(catalog.icon('plots')).toBe(desktopIcon);
    expect(catalog.icon(undefined)).toBe(desktopIcon);
    expect(catalog.icon('gone')).toBe(desktopIcon);
  });
});

describe('addApplicationItems', () => {
  it('adds one Launcher card, palette item and File > New item per application', () => {
    const launcher = { add: jest.fn() };
    const palette = { addItem: jest.fn() };
    const addGroup = jest.fn();
    const mainMenu = { fileMenu: { newMenu: { addGroup } } };
    const catalog = new ApplicationCatalog([app('viewer'), app('plots')]);
    addApplicationItems(catalog, {
      launcher: launcher as any,
      palette: palette as any,
      mainMenu: mainMenu as any
    });
    expect(launcher.add.mock.calls.map(c => c[0])).toEqual([
      {
        command: CommandIDs.openApp,
        args: { app: 'viewer' },
        category: LAUNCHER_CATEGORY,
        rank: 0
      },
      {
        command: CommandIDs.openApp,
        args: { app: 'plots' },
        category: LAUNCHER_CATEGORY,
        rank: 1
      }
    ]);
    expect(palette.addItem.mock.calls.map(c => c[0].args)).toEqual([
      { app: 'viewer', isPalette: true },
      { app: 'plots', isPalette: true }
    ]);
    expect(addGroup).toHaveBeenCalledTimes(1);
    expect(addGroup.mock.calls[0][0]).toEqual([
      { command: CommandIDs.openApp, args: { app: 'viewer' } },
      { command: CommandIDs.openApp, args: { app: 'plots' } }
    ]);
  });

  it('adds nothing to File > New when the stack offers no application', () => {
    const addGroup = jest.fn();
    addApplicationItems(new ApplicationCatalog([]), {
      mainMenu: { fileMenu: { newMenu: { addGroup } } } as any
    });
    expect(addGroup).not.toHaveBeenCalled();
  });
});
