/**
 * `qshare add` end to end, as a user runs it: the built CLI, a real qbittorrent-nox on loopback with a throwaway
 * profile, real 7-Zip, a real filesystem. Trackers point at a closed loopback port: nothing leaves the machine.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bencode from 'bencode';
import { describe, expect, it } from 'vitest';
import { CLI as CLI_PATH, cliEnv, runCli, watchCmdlines } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { qbTorrents, sharedQbitNox } from '../helpers/e2e.js';
import { hasQbitNox, startQbitNox, type QbitNox } from '../helpers/qbit-nox.js';
import { makeAwkwardTree, pseudoRandom, snapshot } from '../helpers/tree.js';

const TRACKER = 'http://127.0.0.1:9/announce';
const have7zz = existsSync('/usr/bin/7zz');

async function setup(qb: QbitNox | null, extraConfig: object = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'qshare-e2e-'));
  const home = join(dir, 'home');
  const configFile = join(dir, 'config.json');
  await writeFile(
    configFile,
    JSON.stringify({ trackers: [TRACKER], qbittorrent: { seedWaitSeconds: 30 }, ...extraConfig }),
  );
  const env = cliEnv({
    QSHARE_HOME: home,
    QSHARE_CONFIG: configFile,
    ...(qb ? { QSHARE_QBIT_URL: qb.url, QSHARE_QBIT_USERNAME: qb.username, QSHARE_QBIT_PASSWORD: qb.password } : {}),
  });
  return { dir, home, env };
}

/** 7-Zip itself, password on stdin: the independent check of what qshare wrote. */
function sevenZip(args: string[], stdin: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn('7zz', args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => resolve({ code, out }));
    p.stdin.end(stdin);
  });
}

function sevenZipOut(args: string[], stdin: string): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn('7zz', args, { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('close', () => resolve(out));
    p.stdin.end(stdin);
  });
}

describe.skipIf(!hasQbitNox() || !have7zz)('qshare add (real qbittorrent-nox, real 7-Zip)', () => {
  const qb = sharedQbitNox();

  it('encrypts an awkward folder, seeds it, and only the password opens it, byte for byte', async () => {
    const { dir, home, env } = await setup(qb);
    const outside = join(dir, 'outside-secret.txt');
    await writeFile(outside, 'this must not be pulled into the archive\n');
    const src = join(dir, 'Wedding Photos 2026');
    await mkdir(src);
    await makeAwkwardTree(src, outside, 24 * 1024 * 1024);
    const before = await snapshot(src);

    const watcher = watchCmdlines(2, (c) => /(^|\/)7zz /.test(c));
    const r = await runCli(['add', src, '--json', '--level', '1'], { env });
    const cmdlines = await watcher.stop();
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(
      expect.arrayContaining(['id', 'name', 'infoHash', 'magnet', 'torrentFile', 'archive', 'password', 'state']),
    );
    expect(out.state).toBe('seeding');
    expect(out.name).toMatch(/^[a-z]+-[a-z]+-[a-z]+$/);
    expect(out.password.split('-')).toHaveLength(12);

    // The password never appeared in any process's command line, and we did see 7-Zip run (so this can fail).
    expect(cmdlines.some((c) => /(^|\/)7zz /.test(c) && c.includes(' a '))).toBe(true);
    for (const c of cmdlines) expect(c).not.toContain(out.password);
    // Nor did 7-Zip inherit the Web UI password qshare was given in QSHARE_QBIT_PASSWORD.
    expect(watcher.environs().length).toBeGreaterThan(0);
    for (const e of watcher.environs()) expect(e).not.toContain(`QSHARE_QBIT_PASSWORD=`);

    // qBittorrent seeds exactly the info hash qshare printed, complete.
    const [t] = await qbTorrents(qb, out.infoHash);
    expect(t).toBeDefined();
    expect(t!.progress).toBe(1);
    expect(String(t!.state)).toMatch(/^(uploading|stalledUP|queuedUP|forcedUP)$/);
    expect(t!.category).toBe('qshare');
    expect(String(t!.tags)).toContain('qshare');

    // The original folder name is nowhere outside the encrypted archive.
    const torrent = await readFile(out.torrentFile);
    for (const leak of ['Wedding', 'Photos']) {
      expect(torrent.includes(Buffer.from(leak))).toBe(false);
      expect(out.magnet).not.toContain(leak);
      expect(out.archive).not.toContain(leak);
    }
    const meta = bencode.decode(torrent) as Record<string, unknown>;
    expect(Object.keys(meta).sort()).toEqual(['announce', 'created by', 'info']);
    expect(Buffer.from(meta['created by'] as Uint8Array).toString()).toMatch(/^qshare \d+\.\d+\.\d+$/);
    expect(Object.keys(meta.info as object)).not.toContain('private');

    // Without the password, 7-Zip lists nothing (encrypted headers).
    const listing = await sevenZip(['l', '--', out.archive], '');
    expect(listing.code).not.toBe(0);
    for (const name of ['deep.txt', 'big.dat', '-rf', 'inside.txt']) expect(listing.out).not.toContain(name);

    // With it, extraction reproduces the tree byte for byte: empty dir, links as links, odd names.
    const xdir = join(dir, 'extracted');
    // -snld: 7-Zip rewrites absolute link targets on extraction unless told the tree is trusted (it is ours).
    const x = await sevenZip(['x', '-snl', '-snld', `-o${xdir}`, '--', out.archive], `${out.password}\n`);
    expect(x.code, x.out).toBe(0);
    const [top] = await readdir(xdir);
    // 7-Zip re-roots absolute link targets under the output folder when extracting (its own safety rule), so
    // the absolute link is compared by what the archive stores.
    const got = await snapshot(join(xdir, top!));
    expect(got['link-outside']).toEqual({ type: 'link', target: join(xdir, outside) });
    expect(await sevenZipOut(['e', '-so', '--', out.archive, `${top}/link-outside`], `${out.password}\n`)).toBe(
      outside,
    );
    expect({ ...got, 'link-outside': before['link-outside'] }).toEqual(before);
    expect(JSON.stringify(await snapshot(xdir))).not.toContain('must not be pulled');

    // The source is untouched; the state records the share without its password.
    expect(await snapshot(src)).toEqual(before);
    const state = await readFile(join(home, 'state.json'), 'utf8');
    expect(state).toContain(out.infoHash);
    expect(state).not.toContain(out.password);
  });

  it('--no-seed --password-stdin: human output, no qBittorrent contact, the given password opens it', async () => {
    const { dir, env } = await setup(null);
    env.QSHARE_QBIT_URL = `http://127.0.0.1:${await freePort()}`; // nothing there; must not matter
    const src = join(dir, 'folder');
    await mkdir(src);
    await writeFile(join(src, 'a.txt'), 'hello\n');
    const r = await runCli(['add', src, '--no-seed', '--password-stdin', '--name', 'my-share'], {
      env,
      input: 'correct horse battery staple\n',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Shared "my-share"');
    expect(r.stdout).toContain('not seeding (--no-seed)');
    expect(r.stdout).toContain('Password:     correct horse battery staple');
    expect(r.stdout).toContain('Message for your recipients');
    const archive = /Archive:\s+(\S+)/.exec(r.stdout)![1]!;
    expect(archive.endsWith('/archives/my-share.7z')).toBe(true);
    expect((await sevenZip(['t', '--', archive], 'correct horse battery staple\n')).code).toBe(0);
    expect((await sevenZip(['t', '--', archive], 'wrong\n')).code).toBe(2);
  });

  it('qBittorrent unreachable: archive and torrent kept, exit 3, then `qshare seed` seeds it', async () => {
    const port = await freePort();
    const { dir, home, env } = await setup(null);
    const src = join(dir, 'f');
    await mkdir(src);
    await writeFile(join(src, 'x.bin'), pseudoRandom(100_000));
    const base = {
      ...env,
      QSHARE_QBIT_URL: `http://127.0.0.1:${port}`,
      QSHARE_QBIT_PASSWORD: 'pw-of-the-later-instance',
    };
    const r = await runCli(['add', src, '--json'], { env: base });
    expect(r.code, r.stderr).toBe(3);
    const out = JSON.parse(r.stdout);
    expect(out.state).toBe('not-seeding');
    expect(out.error.code).toBe('QBIT_UNREACHABLE');
    expect(r.stderr).toContain(`qshare seed ${out.name}`);
    expect(existsSync(out.archive)).toBe(true);
    expect(existsSync(out.torrentFile)).toBe(true);
    expect(await readFile(join(home, 'state.json'), 'utf8')).toContain('"not-seeding"');

    const later = await startQbitNox({ webuiPort: port, password: 'pw-of-the-later-instance' });
    try {
      const s = await runCli(['seed', out.name], { env: base });
      expect(s.code, s.stderr).toBe(0);
      expect(s.stdout).toContain('is seeding');
      const [t] = await qbTorrents(later, out.infoHash);
      expect(t!.progress).toBe(1);
      expect(JSON.parse(await readFile(join(home, 'state.json'), 'utf8')).shares[0].state).toBe('seeding');
      const again = await runCli(['seed', out.id], { env: base });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('already there');
    } finally {
      await later.stop();
    }
  });

  it('a wrong Web UI password is found before any work: one clear message, nothing written, exit 1', async () => {
    const { dir, home, env } = await setup(qb);
    env.QSHARE_QBIT_PASSWORD = 'definitely-wrong';
    const src = join(dir, 'f');
    await mkdir(src);
    await writeFile(join(src, 'x.txt'), 'x');
    const r = await runCli(['add', src], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused the login/);
    expect(r.stderr).not.toContain('definitely-wrong');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack
    expect(await readdir(join(home, 'archives')).catch(() => [])).toEqual([]);
  });

  it('--no-encrypt seeds the folder in place', async () => {
    const { dir, env } = await setup(qb);
    const src = join(dir, 'Holiday');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'sub', 'a.jpg'), pseudoRandom(300_000, 7));
    await writeFile(join(src, 'b.jpg'), pseudoRandom(50_000, 8));
    const before = await snapshot(src);
    const r = await runCli(['add', src, '--no-encrypt', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.archive).toBeNull();
    expect(out.password).toBeNull();
    expect(out.state).toBe('seeding');
    const [t] = await qbTorrents(qb, out.infoHash);
    expect(t!.name).toBe('Holiday');
    expect(String(t!.save_path).replace(/\/$/, '')).toBe(dir);
    expect(await snapshot(src)).toEqual(before);
  });

  it('Ctrl-C while 7-Zip runs: exit 130, no partial archive, torrent or record left, source untouched', async () => {
    const { dir, home, env } = await setup(qb);
    const src = join(dir, 'big');
    await mkdir(src);
    await writeFile(join(src, 'a.bin'), pseudoRandom(96 * 1024 * 1024, 3));
    const before = await snapshot(src);
    const archives = join(home, 'archives');
    const r = await runCli(['add', src, '--level', '1'], {
      env,
      onSpawn: (child) => {
        let sent = false; // one Ctrl-C only: a second means "exit now"
        const poll = setInterval(async () => {
          const files = await readdir(archives).catch(() => []);
          if (!sent && files.some((f) => f.includes('.partial-'))) {
            sent = true;
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 20);
        child.on('close', () => clearInterval(poll));
      },
    });
    expect(r.code, r.stderr).toBe(130);
    expect(await readdir(archives)).toEqual([]);
    expect(await readdir(join(home, 'torrents')).catch(() => [])).toEqual([]);
    expect(
      existsSync(join(home, 'state.json')) ? JSON.parse(await readFile(join(home, 'state.json'), 'utf8')).shares : [],
    ).toEqual([]);
    expect(await snapshot(src)).toEqual(before);
    await rm(dir, { recursive: true, force: true });
  });
});

describe('qshare add: input problems (no qBittorrent needed)', () => {
  it.each([
    ['a missing path', async (d: string) => join(d, 'nope'), /does not exist/],
    [
      'an empty folder',
      async (d: string) => {
        await mkdir(join(d, 'e'));
        return join(d, 'e');
      },
      /is empty/,
    ],
  ])('%s: one line, exit 1, no stack', async (_w, make, re) => {
    const { dir, env } = await setup(null);
    const r = await runCli(['add', await make(dir), '--no-seed'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(re);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a config with a password is refused, naming the key', async () => {
    const { dir, env } = await setup(null, { qbittorrent: { password: 'hunter2' } });
    await writeFile(join(dir, 'x'), 'x');
    const r = await runCli(['add', join(dir, 'x'), '--no-seed'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('qbittorrent.password');
    expect(r.stderr).not.toContain('hunter2');
  });

  it('usage errors exit 2', async () => {
    const { env } = await setup(null);
    const missing = await runCli(['add'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      'qshare: qshare add needs <path>: the folder or file to share\nRun `qshare add --help` for the options.\n',
    );
    expect((await runCli(['add', '.', '--level', '12'], { env })).code).toBe(2);
    const unknown = await runCli(['frobnicate'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Run `qshare --help` for the commands and options.');
  });

  it('--version and --help work', async () => {
    const { env } = await setup(null);
    const v = await runCli(['--version'], { env });
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = await runCli(['add', '--help'], { env });
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('--no-encrypt');
  });
});

const isRoot = process.getuid?.() === 0;
function sh(cmd: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => spawn(cmd, args, { stdio: 'ignore' }).on('close', resolve));
}

describe.skipIf(!isRoot || !have7zz)('qshare add: checks that need root to set up', () => {
  it('an unreadable file (run as an unprivileged user) is named before anything is written', async () => {
    const { dir, home, env } = await setup(null);
    const { chmod, chown } = await import('node:fs/promises');
    await chmod(dir, 0o755);
    const src = join(dir, 'mixed');
    await mkdir(src, { mode: 0o755 });
    await writeFile(join(src, 'ok.txt'), 'fine', { mode: 0o644 });
    await writeFile(join(src, 'secret.txt'), 'root only', { mode: 0o600 });
    await mkdir(home, { mode: 0o700 });
    await chown(home, 65534, 65534);
    await chmod(join(dir, 'config.json'), 0o644);
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, CLI_PATH, 'add', src, '--no-seed'],
        {
          env: { ...env, HOME: dir },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`${join(src, 'secret.txt')} cannot be read`);
    expect(await readdir(join(home, 'archives')).catch(() => [])).toEqual([]);
  });

  it('too little free space for the archive is said before anything is written', async () => {
    const { dir, home, env } = await setup(null);
    await mkdir(home);
    expect(await sh('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', home])).toBe(0);
    try {
      const src = join(dir, 'big');
      await mkdir(src);
      await writeFile(join(src, 'a.bin'), pseudoRandom(5 * 1024 * 1024));
      const r = await runCli(['add', src, '--no-seed'], { env });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(
        /not enough free space for the encrypted archive: it needs about [\d.]+ MB in .*archives, which has [\d.]+ MB free/,
      );
      expect(await readdir(join(home, 'archives'))).toEqual([]);
    } finally {
      await sh('umount', [home]);
    }
  });
});
