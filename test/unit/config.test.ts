import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { mapPath } from '../../src/config/pathmap.js';
import { resolvePaths } from '../../src/config/paths.js';
import { applyEnv, DEFAULT_CONFIG, DEFAULT_TRACKER, validateConfig } from '../../src/config/schema.js';
import { isQshareError } from '../../src/errors.js';

describe('validateConfig', () => {
  it.each([
    [{}, []],
    [{ trackers: [] }, []],
    [{ qbittorrent: { url: 'https://nas.local/qbt/' } }, []],
    [{ qbittorrent: { url: 'ftp://x' } }, ['qbittorrent.url: must start with http:// or https:// (got ftp:)']],
    [
      { qbittorrent: { url: 'http://u:p@host:8080' } },
      ['qbittorrent.url: must not contain a user name or password; use qbittorrent.username and QSHARE_QBIT_PASSWORD'],
    ],
    [
      { qbittorrent: { password: 'x' } },
      [expect.stringMatching(/^qbittorrent.password: qshare never reads a password from the config file/)],
    ],
    [
      { qbittorrent: { pathMap: { relative: '/x' } } },
      ['qbittorrent.pathMap["relative"]: the key must be an absolute local path'],
    ],
    [
      { qbittorrent: { timeoutSeconds: 0 } },
      ['qbittorrent.timeoutSeconds: must be a number of seconds between 1 and 86400'],
    ],
    [{ qbittorrent: { tags: ['a,b'] } }, ['qbittorrent.tags: must be an array of non-empty strings without commas']],
    [{ trackers: 'udp://x' }, ['trackers: must be an array of announce URLs (an empty array means DHT only)']],
    [
      { trackers: ['nope', 'gopher://x:1'] },
      [
        'trackers[0]: "nope" is not a URL',
        'trackers[1]: unsupported tracker scheme gopher: (use udp://, http:// or https://)',
      ],
    ],
    [{ level: 10 }, ['level: must be a whole number from 0 (store, the default: best for photos and video) to 9']],
    [{ level: 1.5 }, ['level: must be a whole number from 0 (store, the default: best for photos and video) to 9']],
    [{ colour: 'red' }, [expect.stringMatching(/^colour: unknown key/)]],
    [{ watch: { dir: '/srv/drop', settleSeconds: 2.5, concurrency: 2, writePasswordFile: true } }, []],
    [{ watch: 'x' }, ['watch: must be an object like {"dir": "~/ToShare"}']],
    [{ watch: { dir: '' } }, ['watch.dir: must be the path of the drop folder, like "~/ToShare"']],
    [{ watch: { settleSeconds: 0.1 } }, ['watch.settleSeconds: must be a number of seconds between 0.5 and 86400']],
    [
      { watch: { concurrency: 1.5 } },
      ['watch.concurrency: must be a whole number from 1 to 16 (archives made at the same time)'],
    ],
    [
      { watch: { concurrency: 0 } },
      ['watch.concurrency: must be a whole number from 1 to 16 (archives made at the same time)'],
    ],
    [{ watch: { writePasswordFile: 'yes' } }, ['watch.writePasswordFile: must be true or false']],
    [
      { watch: { folder: '~/x' } },
      ['watch.folder: unknown key (known: dir, settleSeconds, concurrency, writePasswordFile, recipients, expire)'],
    ],
    [
      { watch: { recipients: 0, expire: '2w' } },
      [
        'watch.recipients: takes a whole number from 1 to 1000 (got 0)',
        'watch.expire: takes a number of days or hours, like 7d or 48h (got "2w")',
      ],
    ],
    [
      { watch: { recipients: 2, expire: 7 } },
      ['watch.expire: takes a number of days or hours as a string, like "7d" or "48h"'],
    ],
    [[], ['config: must be a JSON object like config.example.json']],
  ])('%j → %j', (raw, problems) => {
    expect(validateConfig(raw).problems).toEqual(problems);
  });

  it('reports every problem at once', () => {
    expect(validateConfig({ level: -1, trackers: 3, qbittorrent: { url: 5 } }).problems).toHaveLength(3);
  });

  it('merges over the defaults', () => {
    const { config } = validateConfig({ qbittorrent: { username: 'me' }, level: 3 });
    expect(config.qbittorrent.url).toBe('http://127.0.0.1:8080');
    expect(config.qbittorrent.username).toBe('me');
    expect(config.level).toBe(3);
    expect(config.trackers).toEqual([DEFAULT_TRACKER]);
  });
});

describe('applyEnv', () => {
  it('overrides url and username, never reads a password into the config', () => {
    const { config, problems } = applyEnv(DEFAULT_CONFIG, {
      QSHARE_QBIT_URL: 'http://10.0.0.2:9090',
      QSHARE_QBIT_USERNAME: 'bob',
      QSHARE_QBIT_PASSWORD: 'hunter2-pw',
    });
    expect(problems).toEqual([]);
    expect(config.qbittorrent.url).toBe('http://10.0.0.2:9090');
    expect(config.qbittorrent.username).toBe('bob');
    expect(JSON.stringify(config)).not.toContain('hunter2-pw');
  });
  it('rejects a bad URL', () => {
    expect(applyEnv(DEFAULT_CONFIG, { QSHARE_QBIT_URL: 'localhost:8080' }).problems[0]).toMatch(/^QSHARE_QBIT_URL: /);
  });
});

describe('loadConfig', () => {
  it('uses the defaults when the file is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-cfg-'));
    expect(await loadConfig(join(dir, 'none.json'), {})).toEqual(DEFAULT_CONFIG);
  });
  it('lists every problem in one error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-cfg-'));
    const f = join(dir, 'c.json');
    await writeFile(f, JSON.stringify({ level: 12, trackers: ['x'] }));
    const err = await loadConfig(f, {}).catch((e: unknown) => e);
    expect(isQshareError(err) && err.code).toBe('CONFIG');
    expect((err as Error).message).toContain('2 problems');
    expect((err as Error).message).toContain('level:');
    expect((err as Error).message).toContain('trackers[0]:');
  });
  it('says where invalid JSON is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-cfg-'));
    const f = join(dir, 'c.json');
    await writeFile(f, '{ "level": 0, }');
    await expect(loadConfig(f, {})).rejects.toThrow(/is not valid JSON/);
  });
  it('config.example.json is valid and equals the defaults', async () => {
    const { readFile } = await import('node:fs/promises');
    const raw = JSON.parse(await readFile(new URL('../../config.example.json', import.meta.url), 'utf8'));
    const { config, problems } = validateConfig(raw);
    expect(problems).toEqual([]);
    expect(config).toEqual(DEFAULT_CONFIG);
  });
});

describe('resolvePaths', () => {
  it.each([
    [{}, 'linux', '/home/a/.config/qshare/config.json', '/home/a/.local/share/qshare'],
    [{ XDG_CONFIG_HOME: '/x/c', XDG_DATA_HOME: '/x/d' }, 'linux', '/x/c/qshare/config.json', '/x/d/qshare'],
    [{ QSHARE_CONFIG: '/etc/q.json', QSHARE_HOME: '/srv/q' }, 'linux', '/etc/q.json', '/srv/q'],
    [
      {},
      'darwin',
      '/home/a/Library/Application Support/qshare/config.json',
      '/home/a/Library/Application Support/qshare',
    ],
  ] as const)('%j on %s', (env, platform, configFile, dataDir) => {
    const p = resolvePaths(env, platform, '/home/a');
    expect(p.configFile).toBe(configFile);
    expect(p.dataDir).toBe(dataDir);
    expect(p.stateFile).toBe(`${dataDir}/state.json`);
  });
});

describe('mapPath', () => {
  const map = { '/home/me/.local/share/qshare': '/downloads/qshare', '/home/me': '/mnt/home', '/data/': 'D:\\Data' };
  it.each([
    ['/home/me/.local/share/qshare/archives', '/downloads/qshare/archives'],
    ['/home/me/.local/share/qshare', '/downloads/qshare'],
    ['/home/me/Pictures/a b', '/mnt/home/Pictures/a b'],
    ['/home/meow/x', '/home/meow/x'],
    ['/data/x/y', 'D:\\Data\\x\\y'],
    ['/elsewhere', '/elsewhere'],
  ])('%s → %s', (local, remote) => {
    expect(mapPath(local, map)).toBe(remote);
  });
});

describe('watch.recipients and watch.expire', () => {
  it('are read as the defaults of every share watch makes', () => {
    const r = validateConfig({ watch: { recipients: 2, expire: '36h' } });
    expect(r.problems).toEqual([]);
    expect(r.config.watch).toMatchObject({ recipients: 2, expireMinutes: 2160 });
  });
});
