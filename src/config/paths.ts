import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where qshare keeps its config file and its data. Pure: everything comes from the arguments. */
export interface Paths {
  configFile: string;
  dataDir: string;
  archivesDir: string;
  torrentsDir: string;
  stateFile: string;
  cacheDir: string;
}

export function resolvePaths(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): Paths {
  const configFile = nonEmpty(env.QSHARE_CONFIG) ?? join(configBase(env, platform, home), 'qshare', 'config.json');
  const dataDir = nonEmpty(env.QSHARE_HOME) ?? join(dataBase(env, platform, home), 'qshare');
  return dataPaths(configFile, dataDir);
}

export function dataPaths(configFile: string, dataDir: string): Paths {
  return {
    configFile,
    dataDir,
    archivesDir: join(dataDir, 'archives'),
    torrentsDir: join(dataDir, 'torrents'),
    stateFile: join(dataDir, 'state.json'),
    cacheDir: join(dataDir, 'cache'),
  };
}

function configBase(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string {
  if (platform === 'win32') return nonEmpty(env.APPDATA) ?? join(home, 'AppData', 'Roaming');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support');
  return nonEmpty(env.XDG_CONFIG_HOME) ?? join(home, '.config');
}

function dataBase(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string {
  if (platform === 'win32') return nonEmpty(env.LOCALAPPDATA) ?? join(home, 'AppData', 'Local');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support');
  return nonEmpty(env.XDG_DATA_HOME) ?? join(home, '.local', 'share');
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== '' ? v : undefined;
}
