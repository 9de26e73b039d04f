/**
 * "New > Desktop" in Notebook 7's file browser (the tree page).
 *
 * Notebook 7 builds its "New" dropdown inside `@jupyter-notebook/tree-extension:new`: a
 * Lumino `Menu` in a `MenuBar` that the file browser toolbar gets from the toolbar
 * registry (item `new-dropdown`). The menu is not exposed as a token, so we find that
 * MenuBar in the toolbar once it is there, and add our item again whenever Notebook
 * rebuilds the menu (it clears it when the kernel specs change).
 */
import { Toolbar } from '@jupyterlab/apputils';
import { Menu, MenuBar, Widget } from '@lumino/widgets';
import { ISignal } from '@lumino/signaling';

import { CommandIDs } from './tokens';

function findNewMenu(toolbar: Toolbar<Widget>): [Widget, Menu] | null {
  const widgets = (toolbar.layout as any)?.widgets as Widget[] | undefined;
  for (const widget of widgets ?? []) {
    // duck-typed (a MenuBar): do not depend on sharing one copy of @lumino/widgets
    const menus = (widget as unknown as Partial<MenuBar>)?.menus;
    if (Array.isArray(menus) && menus.length > 0) {
      return [widget, menus[0]];
    }
  }
  return null;
}

/** An item of the New dropdown: a command and its arguments. */
export interface INewItem {
  command: string;
  args?: { [key: string]: string };
}

function sameItem(item: Menu.IItem, wanted: INewItem): boolean {
  return (
    item.command === wanted.command &&
    JSON.stringify(item.args ?? {}) === JSON.stringify(wanted.args ?? {})
  );
}

function ensureItems(menu: Menu, items: INewItem[]): void {
  for (const wanted of items) {
    if (!menu.items.some(item => sameItem(item, wanted))) {
      menu.addItem({ command: wanted.command, args: wanted.args ?? {} });
    }
  }
}

/**
 * Add "Desktop" (and the software stack's applications, once known) to the tree's New
 * dropdown.
 *
 * @param toolbar the default file browser's toolbar
 * @param specsChanged Notebook rebuilds the menu on this signal
 * @param extraItems items after "Desktop", asked for each time the menu is completed
 */
export function addToTreeNewMenu(
  toolbar: Toolbar<Widget>,
  specsChanged: ISignal<any, any> | null,
  extraItems: () => INewItem[] = () => []
): void {
  const ensureItem = (menu: Menu): void =>
    ensureItems(menu, [{ command: CommandIDs.create }, ...extraItems()]);
  const attach = (): boolean => {
    const found = findNewMenu(toolbar);
    if (!found) {
      return false;
    }
    const [bar, menu] = found;
    ensureItem(menu);
    // the MenuBar opens the menu on pointerdown: make sure the item is there first
    bar.node.addEventListener('pointerdown', () => ensureItem(menu), true);
    // Notebook's own handler (connected first) has cleared and refilled it
    specsChanged?.connect(() => ensureItem(menu));
    return true;
  };
  if (attach()) {
    return;
  }
  // the toolbar items are added once the file browser settings are loaded
  const observer = new MutationObserver(() => {
    if (attach()) {
      observer.disconnect();
    }
  });
  observer.observe(toolbar.node, { childList: true, subtree: true });
}
