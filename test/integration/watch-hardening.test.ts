/**
 * Bad input to `qshare watch` (issue #7): the built CLI as a long-running process with real filesystem events and
 * the real 7-Zip. Items that can never be shared as they are (a name that is not UTF-8, a link loop, a FIFO) are
 * said once in the log and never queued; awkward names and a link to a folder elsewhere are shared; an unreadable
 * file (the watcher run as an unprivileged user) fails its item with the file named and nothing left behind, and
 * the item is shared once the file is made readable. qBittorrent is not needed: its address is a closed port, so
 * items wait after they are archived and recorded.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFailed, onTestFinished } from 'vitest';
import type { WatchItem } from '../../src/state/journal.js';
import { CLI, cliEnv } from '../helpers/cli.js';
import { until } from '../helpers/e2e.js';
import { freePort } from '../helpers/ports.js';
import { sevenZip } from '../helpers/seven-zip.js';

const have7zz = existsSync('/usr/bin/7zz');
const isRoot = process.getuid?.() === 0;

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'qshare-watchhard-'));
  const home = join(dir, 'home');
  const drop = join(dir, 'ToShare');
  await mkdir(drop);
  const configFile = join(dir, 'config.json');
  await writeFile(
    configFile,
    JSON.stringify({
      trackers: ['http://127.0.0.1:9/announce'],
      watch: { settleSeconds: 0.5, writePasswordFile: true },
    }),
  );
  const env = cliEnv({
    QSHARE_HOME: home,
    QSHARE_CONFIG: configFile,
    QSHARE_SECRET_STORE: 'none',
    QSHARE_QBIT_URL: `http://127.0.0.1:${await freePort()}`,
  });
  return { dir, home, drop, configFile, env };
}

/** `qshare watch DROP`, optionally through a wrapper (setpriv); its stderr JSON log lines. */
function startWatch(drop: string, env: NodeJS.ProcessEnv, wrap: string[] = []) {
  const [cmd, ...args] = [...wrap, process.execPath, CLI, 'watch', drop];
  const child: ChildProcess = spawn(cmd!, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const logs = () =>
    err
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        try {
          return JSON.parse(l) as { level: string; msg: string; item?: string };
        } catch {
          return { level: 'text', msg: l };
        }
      });
  onTestFailed(() => console.error(`--- qshare watch log ---\n${err}`));
  // a test that fails half-way must not leave the watcher running (it would go on sharing, and loading the machine)
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    logs,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function journal(home: string): Promise<WatchItem[]> {
  try {
    return (JSON.parse(await readFile(join(home, 'watch.json'), 'utf8')) as { items: WatchItem[] }).items;
  } catch {
    return [];
  }
}

const latin1 = (s: string) => Buffer.from(s, 'latin1');

describe.skipIf(!have7zz)('qshare watch: bad input', () => {
  it('never-shareable items are said once and never queued; awkward names and a link to a folder elsewhere are shared', async () => {
    const { dir, home, drop, env } = await setup();
    const dropB = Buffer.from(drop);
    const at = (name: Buffer | string) =>
      Buffer.concat([dropB, Buffer.from('/'), Buffer.isBuffer(name) ? name : Buffer.from(name)]);
    // shareable
    const awkward = 'line\nbreak "q" \\ -sdel';
    mkdirSync(at(awkward));
    writeFileSync(at(`${awkward}/-rf`), 'not a switch\n');
    writeFileSync(Buffer.concat([at(awkward), latin1('/caf\xe9.txt')]), 'latin-1 name inside\n');
    writeFileSync(at(`${awkward}/${'n'.repeat(255)}`), '255 bytes\n');
    await mkdir(join(dir, 'elsewhere'));
    await writeFile(join(dir, 'elsewhere', 'x.txt'), 'x\n');
    await symlink(join(dir, 'elsewhere'), join(drop, 'link to a folder'));
    // never shareable as they are
    mkdirSync(at(latin1('dossier \xe9t\xe9')));
    writeFileSync(Buffer.concat([at(latin1('dossier \xe9t\xe9')), Buffer.from('/f.txt')]), 'x');
    await symlink('loop-b', join(drop, 'loop-a'));
    await symlink('loop-a', join(drop, 'loop-b'));
    await symlink(join(dir, 'missing'), join(drop, 'dangling'));
    expect(spawnSync('mkfifo', [join(drop, 'fifo')]).status).toBe(0);

    const w = startWatch(drop, env);
    const items = await until('both shareable items recorded', async () => {
      const j = await journal(home);
      return j.filter((i) => i.recorded).length === 2 && j;
    });
    await until(
      'the warnings',
      async () => w.logs().filter((l) => l.level === 'warn' && l.msg.startsWith('not sharing')).length >= 5,
    );
    await new Promise((r) => setTimeout(r, 1500)); // a few more looks: still said once each
    expect(await w.stop()).toBe(0);

    expect(items.map((i) => i.entry).sort()).toEqual([awkward, 'link to a folder'].sort());
    const warned = w
      .logs()
      .filter((l) => l.level === 'warn' && l.msg.startsWith('not sharing'))
      .map((l) => l.msg)
      .sort();
    expect(warned).toEqual([
      'not sharing "dangling": it is a link that leads nowhere (a loop, or to something missing)',
      'not sharing "dossier \\xe9t\\xe9": its name is not valid UTF-8; rename it to share it (names inside it may stay as they are)',
      'not sharing "fifo": it is a special file (socket, FIFO or device)',
      'not sharing "loop-a": it is a link that leads nowhere (a loop, or to something missing)',
      'not sharing "loop-b": it is a link that leads nowhere (a loop, or to something missing)',
    ]);

    // the awkward item's archive holds its names byte for byte; the link's holds the folder it points to
    for (const it of items) {
      const pw = (await readFile(join(drop, '.qshare', `${it.name}.password.txt`), 'utf8')).trim();
      const x = join(dir, `x-${it.name}`);
      const r = await sevenZip(['x', '-snl', `-o${x}`, '--', it.archive!], `${pw}\n`);
      expect(r.code, r.out).toBe(0);
      const names = (p: Buffer): string[] =>
        readdirSync(p, { encoding: 'buffer' })
          .map((n) => n.toString('latin1'))
          .sort();
      if (it.entry === awkward)
        expect(names(Buffer.concat([Buffer.from(x + '/'), Buffer.from(awkward)]))).toEqual(
          ['-rf', 'caf\xe9.txt', 'n'.repeat(255)].sort(),
        );
      else {
        // like `qshare add <link>`: the folder it points to, under its own name
        expect(readdirSync(x)).toEqual(['elsewhere']);
        expect(lstatSync(join(x, 'elsewhere')).isDirectory()).toBe(true);
        expect(readFileSync(join(x, 'elsewhere', 'x.txt'), 'utf8')).toBe('x\n');
      }
    }
    expect(readlinkSync(join(drop, 'link to a folder'))).toBe(join(dir, 'elsewhere')); // the drop folder untouched
  });

  it.skipIf(!isRoot)(
    'an unreadable file (the watcher run as an unprivileged user): the item fails naming it, nothing is left, and it is shared once the file is readable',
    async () => {
      const { dir, home, drop, configFile, env } = await setup();
      await chmod(dir, 0o755);
      await chmod(configFile, 0o644);
      for (const p of [drop]) await chown(p, 65534, 65534);
      await mkdir(home, { mode: 0o700 });
      await chown(home, 65534, 65534);
      const item = join(drop, 'mixed');
      await mkdir(item, { mode: 0o755 });
      await writeFile(join(item, 'ok.txt'), 'fine\n', { mode: 0o644 });
      await writeFile(join(item, 'secret.txt'), 'root only\n', { mode: 0o600 });

      const w = startWatch(drop, { ...env, HOME: dir }, [
        'setpriv',
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--',
      ]);
      const failed = await until('the item to fail', async () =>
        (await journal(home)).find((i) => i.state === 'failed'),
      );
      expect(failed.reason).toContain(`${join(item, 'secret.txt')} cannot be read (permission denied)`);
      // the journal is written just before the log line, which then crosses a pipe
      await until(
        'the error to be logged',
        async () =>
          w
            .logs()
            .some(
              (l) =>
                l.level === 'error' &&
                l.msg.includes('could not share "mixed"') &&
                l.msg.includes('secret.txt cannot be read'),
            ),
        5_000,
      );
      expect(await readdir(join(home, 'archives')).catch(() => [])).toEqual([]);
      expect(await readdir(join(home, 'torrents')).catch(() => [])).toEqual([]);

      await chmod(join(item, 'secret.txt'), 0o644); // fixing the permission is a change: the item is tried again
      const shared = await until('the item to be shared', async () => (await journal(home)).find((i) => i.recorded));
      expect(await w.stop()).toBe(0);
      expect(shared.entry).toBe('mixed');
      expect(existsSync(shared.archive!)).toBe(true);
    },
  );
});
