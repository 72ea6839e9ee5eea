/**
 * Settings are read when a run starts, never cached; but a value in the workspace's settings wins over the User
 * settings. Changing a pgload setting in the User settings while the workspace sets it too would seem to do nothing:
 * pgload says so once per setting, with the value runs will use.
 */
import * as vscode from 'vscode';
import { RUN_OPTION_TABLE } from '../core/optionTable';
import { Settings } from './constants';
import type { Ui } from './ui';
import { shadowSentence } from './words';

const { section, ...named } = Settings;
const KEYS = [...Object.values(named), ...RUN_OPTION_TABLE.flatMap((r) => (r.setting ? [r.setting.name] : []))];

export function watchShadowedSettings(ui: Ui): vscode.Disposable {
  const told = new Set<string>();
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (!e.affectsConfiguration(section)) return;
    const cfg = vscode.workspace.getConfiguration(section);
    for (const key of KEYS) {
      if (told.has(key) || !e.affectsConfiguration(`${section}.${key}`)) continue;
      const sentence = shadowSentence(key, cfg.inspect(key));
      if (!sentence) continue;
      told.add(key);
      void ui.info(sentence, 'Open Workspace Settings').then((pick) => {
        if (pick) void vscode.commands.executeCommand('workbench.action.openWorkspaceSettingsFile');
      });
    }
  });
}
