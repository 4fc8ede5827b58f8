/**
 * Bad input to `qshare add` (issue #7), through the built CLI with the real 7-Zip and filesystem: link loops, names
 * that break naive code (newlines, quotes, backslashes, a leading `-`, 255 bytes, bytes that are not UTF-8), a
 * source that changes while 7-Zip reads it, qshare's own data folder, the same folder twice. Every failure: one
 * message, exit 1, the source untouched, nothing left in the data folder, and the same command works afterwards.
 * qBittorrent is not needed (--no-seed); the address points at a closed port so nothing is contacted.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bencode from 'bencode';
import { describe, expect, it } from 'vitest';
import { CLI, cliEnv, runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { AWKWARD, byteSnapshot, makeAwkwardNames } from '../helpers/awkward-names.js';
import { sevenZip } from '../helpers/seven-zip.js';
import { pseudoRandom } from '../helpers/tree.js';

const have7zz = existsSync('/usr/bin/7zz');
const TRACKER = 'http://127.0.0.1:9/announce';

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'qshare-hard-'));
  const home = join(dir, 'home');
  const configFile = join(dir, 'config.json');
  await writeFile(configFile, JSON.stringify({ trackers: [TRACKER] }));
  const env = cliEnv({
    QSHARE_HOME: home,
    QSHARE_CONFIG: configFile,
    QSHARE_QBIT_URL: `http://127.0.0.1:${await freePort()}`,
  });
  return { dir, home, env };
}

/** Extracts an archive qshare made into a fresh folder and returns the one top-level entry's path (as bytes). */
async function extract(archive: string, password: string, into: string): Promise<Buffer> {
  // -snld: keep the stored link targets as they are (this archive is ours, and the test compares them)
  const x = await sevenZip(['x', '-snl', '-snld', `-o${into}`, '--', archive], `${password}\n`);
  expect(x.code, x.out).toBe(0);
  const top = readdirSync(into, { encoding: 'buffer' });
  expect(top).toHaveLength(1);
  return Buffer.concat([Buffer.from(into + '/'), top[0]!]);
}

/** The data folder holds no archive (not even a partial one), no .torrent and no share. */
async function expectNothingLeft(home: string): Promise<void> {
  expect(await readdir(join(home, 'archives')).catch(() => [])).toEqual([]);
  expect(await readdir(join(home, 'torrents')).catch(() => [])).toEqual([]);
  const state = existsSync(join(home, 'state.json'))
    ? JSON.parse(await readFile(join(home, 'state.json'), 'utf8'))
    : { shares: [] };
  expect(state.shares).toEqual([]);
}

function oneMessage(stderr: string, re: RegExp): void {
  expect(stderr).toMatch(re);
  expect(stderr).not.toMatch(/unexpected error|\n\s+at /);
  expect(stderr.trim().split('\n').length).toBeLessThanOrEqual(2); // the message and its hint
}

/** stderr without a terminal is JSON lines: their messages */
function messages(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return String((JSON.parse(l) as { msg: unknown }).msg);
      } catch {
        return l;
      }
    });
}

describe.skipIf(!have7zz)('qshare add: bad input (real 7-Zip, real filesystem)', () => {
  it('symlink loops inside the folder are stored as the links they are; a path that is itself a loop or dangles is refused', async () => {
    const { dir, home, env } = await setup();
    const src = join(dir, 'loops');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'sub', 'file.txt'), 'data\n');
    await symlink('b', join(src, 'a'));
    await symlink('a', join(src, 'b'));
    await symlink('.', join(src, 'sub', 'self'));
    await symlink('..', join(src, 'sub', 'up'));
    const before = byteSnapshot(src);

    const r = await runCli(['add', src, '--no-seed', '--json'], { env, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(byteSnapshot(src)).toEqual(before);
    // what the archive stores (7-Zip itself refuses to extract a link through another link, so it is read, not extracted)
    const listing = await sevenZip(['l', '-slt', '--', out.archive], `${out.password}\n`);
    expect(listing.code, listing.out).toBe(0);
    const kinds = Object.fromEntries(
      [...listing.out.matchAll(/^Path = loops\/(.+)\n(?:.+\n)*?Attributes = \S+ (.)/gm)].map((m) => [m[1], m[2]]),
    );
    expect(kinds).toEqual({ sub: 'd', a: 'l', b: 'l', 'sub/file.txt': '-', 'sub/self': 'l', 'sub/up': 'l' });
    for (const [link, target] of [
      ['a', 'b'],
      ['b', 'a'],
      ['sub/self', '.'],
      ['sub/up', '..'],
    ]) {
      expect((await sevenZip(['e', '-so', '--', out.archive, `loops/${link}`], `${out.password}\n`)).out).toBe(target);
    }

    for (const [name, make, re] of [
      ['loop', () => symlink('loop', join(dir, 'loop')), /loop is a symbolic link that loops back on itself/],
      [
        'dangling',
        () => symlink(join(dir, 'nowhere'), join(dir, 'dangling')),
        /dangling is a symbolic link to something that does not exist/,
      ],
    ] as const) {
      await make();
      const bad = await runCli(['add', join(dir, name), '--no-seed'], { env });
      expect(bad.code, bad.stderr).toBe(1);
      oneMessage(bad.stderr, re);
    }
    expect(JSON.parse(await readFile(join(home, 'state.json'), 'utf8')).shares).toHaveLength(1);
  });

  it('names with newlines, quotes, backslashes, a leading -, 255 bytes and bytes that are not UTF-8 round-trip byte for byte; a folder named -sdel given as a relative path is only read', async () => {
    const { dir, env } = await setup();
    const src = join(dir, '-sdel');
    await mkdir(src);
    makeAwkwardNames(src, true);
    const before = byteSnapshot(src);
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(AWKWARD.length + 3);

    // `qshare add -- -sdel` from the folder holding it: the relative name must reach 7-Zip as a path, never a switch
    const r = await runCli(['add', '--no-seed', '--json', '--', '-sdel'], { env, cwd: dir, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(byteSnapshot(src)).toEqual(before);

    const top = await extract(out.archive, out.password, join(dir, 'x'));
    expect(top.toString().endsWith('/-sdel')).toBe(true);
    expect(byteSnapshot(top)).toEqual(before);
  });

  it('--no-encrypt: those names go into the torrent as they are; a name that is not UTF-8 is refused, nothing written, and renaming it fixes it', async () => {
    const { dir, home, env } = await setup();
    const src = join(dir, 'plain');
    await mkdir(src);
    makeAwkwardNames(src, true);
    const before = byteSnapshot(src);

    const r = await runCli(['add', src, '--no-seed', '--no-encrypt'], { env });
    expect(r.code, r.stderr).toBe(1);
    oneMessage(r.stderr, /--no-encrypt cannot share 3 names that are not valid UTF-8 .*"caf\\xe9 cr\\xe8me\.txt"/);
    expect(r.stderr).toMatch(/"dossier \\xe9t\\xe9"/);
    expect(r.stderr).toMatch(/"x\\x80y"/);
    expect(byteSnapshot(src)).toEqual(before);
    await expectNothingLeft(home);

    // the same folder without those names
    await rm(join(dir, 'plain'), { recursive: true });
    await mkdir(src);
    makeAwkwardNames(src, false);
    const ok = await runCli(['add', src, '--no-seed', '--no-encrypt', '--json'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    const meta = bencode.decode(await readFile(JSON.parse(ok.stdout).torrentFile)) as {
      info: { name: Uint8Array; files: Array<{ path: Uint8Array[] }> };
    };
    const paths = meta.info.files.map((f) => f.path.map((c) => Buffer.from(c).toString('utf8')).join('/')).sort();
    expect(paths).toEqual(
      [
        '-sdel/still here.txt',
        'line one\nline two.txt',
        `it's "quoted".txt`,
        'back\\slash\\x.txt',
        '-rf',
        'n'.repeat(251) + '.txt',
        'é'.repeat(127) + 'x',
      ].sort(),
    );
  });

  it('a path that is not valid UTF-8 on the command line: one message saying so', async () => {
    const { dir, env } = await setup();
    // Node cannot put such bytes in argv itself; the shell can
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn(
        'sh',
        [
          '-c',
          `mkdir "$1/$(printf 'bad\\377')" && echo x > "$1/$(printf 'bad\\377')/f" && exec "$2" "$3" add "$1/$(printf 'bad\\377')" --no-seed`,
          'sh',
          dir,
          process.execPath,
          CLI,
        ],
        {
          env,
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code, r.stderr).toBe(1);
    oneMessage(r.stderr, /its name is not valid UTF-8/);
  });

  it.each([
    [
      'a file is rewritten',
      (src: string) => appendFile(join(src, 'notes.txt'), 'a line added while 7-Zip runs\n'),
      /"notes\.txt" changed/,
    ],
    ['a file disappears', (src: string) => unlink(join(src, 'notes.txt')), /"notes\.txt" disappeared/],
    ['a file appears', (src: string) => writeFile(join(src, 'new.txt'), 'late\n'), /"new\.txt" appeared/],
    [
      'the one file shared is rewritten',
      (src: string) => appendFile(src, 'more'),
      /busy\.bin changed while 7-Zip was reading it: the file itself changed/,
    ],
  ])(
    '%s while 7-Zip reads it: SOURCE_CHANGED, exit 1, no archive, torrent or record; the same command then works',
    async (what, change, re) => {
      const { dir, home, env } = await setup();
      let src = join(dir, 'busy');
      if (what.startsWith('the one file')) {
        src = join(dir, 'busy.bin');
        await writeFile(src, pseudoRandom(24 * 1024 * 1024, 9));
      } else {
        await mkdir(src);
        await writeFile(join(src, 'big.bin'), pseudoRandom(24 * 1024 * 1024, 9));
        await writeFile(join(src, 'notes.txt'), 'first version\n');
      }
      const archives = join(home, 'archives');
      let changed = false;
      // --level 1 makes 7-Zip take a couple of seconds; the change happens once its partial archive exists
      const r = await runCli(['add', src, '--no-seed', '--level', '1', '--json'], {
        env,
        onSpawn: (child) => {
          const poll = setInterval(async () => {
            const files = await readdir(archives).catch(() => []);
            if (!changed && files.some((f) => f.includes('.partial-'))) {
              changed = true;
              clearInterval(poll);
              await change(src);
            }
          }, 10);
          child.on('close', () => clearInterval(poll));
        },
      });
      expect(changed).toBe(true);
      expect(r.code, r.stderr).toBe(1);
      oneMessage(r.stderr, re);
      expect(r.stderr).toMatch(/changed while 7-Zip was reading it/);
      expect(JSON.parse(r.stdout).error.code).toBe('SOURCE_CHANGED');
      await expectNothingLeft(home);

      const again = await runCli(['add', src, '--no-seed', '--level', '1', '--json'], { env });
      expect(again.code, again.stderr).toBe(0);
      const out = JSON.parse(again.stdout);
      expect((await sevenZip(['t', '--', out.archive], `${out.password}\n`)).code).toBe(0);
    },
  );

  it("a path inside qshare's data folder, or a folder holding it, is refused before anything is written", async () => {
    const { dir, home, env } = await setup();
    await mkdir(join(home, 'archives'), { recursive: true });
    await writeFile(join(home, 'archives', 'x.bin'), 'x');
    const inside = await runCli(['add', join(home, 'archives'), '--no-seed'], { env });
    expect(inside.code).toBe(1);
    oneMessage(inside.stderr, /is inside qshare's own data folder/);
    const around = await runCli(['add', dir, '--no-seed'], { env });
    expect(around.code).toBe(1);
    oneMessage(around.stderr, /contains qshare's own data folder/);
    expect(await readdir(join(home, 'archives'))).toEqual(['x.bin']);
    expect(await readdir(join(home, 'torrents')).catch(() => [])).toEqual([]);
  });

  it('the same folder twice: a second, separate share (new name and password) with a warning naming the first', async () => {
    const { dir, home, env } = await setup();
    const src = join(dir, 'twice');
    await mkdir(src);
    await writeFile(join(src, 'a.txt'), 'same content\n');
    const first = await runCli(['add', src, '--no-seed', '--json'], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toMatch(/already shared/);
    const second = await runCli(['add', src, '--no-seed', '--json'], { env });
    expect(second.code, second.stderr).toBe(0);
    const [a, c] = [JSON.parse(first.stdout), JSON.parse(second.stdout)];
    expect(messages(second.stderr).join('\n')).toContain(
      `${src} was already shared as "${a.name}"; this makes a new, separate share`,
    );
    expect(c.name).not.toBe(a.name);
    expect(c.password).not.toBe(a.password);
    expect(c.infoHash).not.toBe(a.infoHash); // a new archive, a new password, new bytes
    expect(
      JSON.parse(await readFile(join(home, 'state.json'), 'utf8')).shares.map((s: { name: string }) => s.name),
    ).toEqual([a.name, c.name]);
  });
});
