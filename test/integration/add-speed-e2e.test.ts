/**
 * The speed work seen from the CLI (built binary, real 7zz, real files; no qBittorrent: --no-seed):
 * - the torrent of an archive hashed while 7-Zip wrote it has exactly the pieces transmission-create computes from
 *   the finished archive;
 * - --level auto picks store for incompressible data and the fast level for text, says so on stderr and in --json;
 * - start-up: `qshare add` does not load npm 7zip-bin when a 7-Zip is on PATH.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import bencode from 'bencode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/cli.js';
import { pseudoRandom } from '../helpers/tree.js';

const TRACKER = 'http://127.0.0.1:9/announce';
const have = existsSync('/usr/bin/7zz') && existsSync('/usr/bin/transmission-create');
const PASSWORD = 'correct horse battery staple';

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qshare-speed-e2e-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function setup() {
  const home = join(dir, `home${n++}`);
  const configFile = join(dir, `config${n}.json`);
  await writeFile(configFile, JSON.stringify({ trackers: [TRACKER] }));
  return cliEnv({ QSHARE_HOME: home, QSHARE_CONFIG: configFile, QSHARE_QBIT_URL: 'http://127.0.0.1:9' });
}

function text(bytes: number): string {
  const words = ['share', 'folder', 'torrent', 'seed', 'peer', 'piece', 'hash', 'archive', 'password', 'link'];
  const r = randomBytes(bytes);
  let s = '';
  for (let i = 0; s.length < bytes; i++) s += words[r[i]! % words.length] + (r[i]! % 13 === 0 ? '\n' : ' ');
  return s;
}

/** the method 7-Zip used for the first file, read with the password: "Copy" for store, "LZMA2:…" otherwise */
function methodOf(archive: string): string {
  const r = spawnSync('7zz', ['l', '-slt', '--', archive], { input: `${PASSWORD}\n`, encoding: 'utf8' });
  const m = /^Method = (.+)$/m.exec(r.stdout);
  if (!m?.[1]) throw new Error(`no method in:\n${r.stdout}\n${r.stderr}`);
  return m[1];
}

describe.skipIf(!have)('qshare add: hashing while 7-Zip writes, --level auto', () => {
  it('the .torrent has the pieces transmission-create computes from the finished archive', async () => {
    const env = await setup();
    const src = join(dir, 'photos');
    await mkdir(join(src, 'day 2'), { recursive: true });
    await writeFile(join(src, 'img1.jpg'), pseudoRandom(5 * 1024 * 1024, 3));
    await writeFile(join(src, 'day 2', 'img2.jpg'), pseudoRandom(3 * 1024 * 1024 + 99, 4));
    const r = await runCli(['add', src, '--no-seed', '--password-stdin', '--json', '--verbose', '--level', '1'], {
      env,
      input: `${PASSWORD}\n`,
    });
    expect(r.code, r.stderr).toBe(0);
    // the pieces did come from hashing while 7-Zip wrote (no second pass over the archive)
    expect(r.stderr).toContain('archive hashed while 7-Zip wrote it');
    expect(r.stderr).not.toContain('hashing the archive again');
    const out = JSON.parse(r.stdout);
    const ours = (bencode.decode(await readFile(out.torrentFile)) as { info: Record<string, unknown> }).info;
    expect(ours['piece length']).toBe(16384); // chosen from the 8 MiB source
    const trFile = join(dir, `tr${n++}.torrent`);
    execFileSync('transmission-create', ['-p', '-s', '16', '-t', TRACKER, '-o', trFile, out.archive], {
      stdio: 'pipe',
    });
    const tr = (bencode.decode(await readFile(trFile)) as { info: Record<string, unknown> }).info;
    expect(ours.length).toBe(tr.length);
    expect(Buffer.from(ours.pieces as Uint8Array).equals(Buffer.from(tr.pieces as Uint8Array))).toBe(true);
  });

  it.each([
    [
      'incompressible files',
      0,
      'Copy',
      async (src: string) => writeFile(join(src, 'video.mp4'), pseudoRandom(3 * 1024 * 1024, 5)),
    ],
    ['text', 1, 'LZMA2', async (src: string) => writeFile(join(src, 'notes.txt'), text(3 * 1024 * 1024))],
  ])(
    '--level auto on %s → level %i (7-Zip method %s), said on stderr and in --json',
    async (_l, want, method, fill) => {
      const env = await setup();
      const src = join(dir, `auto${n++}`);
      await mkdir(src);
      await fill(src);
      const r = await runCli(['add', src, '--no-seed', '--password-stdin', '--json', '--level', 'auto'], {
        env,
        input: `${PASSWORD}\n`,
      });
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.level).toMatchObject({ chosen: want, auto: true });
      expect(out.level.sampleRatio).toBeGreaterThan(0);
      expect(r.stderr).toContain('--level auto:');
      expect(r.stderr).toContain(`level ${want}`);
      expect(methodOf(out.archive)).toMatch(new RegExp(`^${method}`));
    },
  );

  it.each([
    ['encrypted', ['--password-stdin']],
    ['--no-encrypt', ['--no-encrypt']],
  ])('start-up (%s): npm 7zip-bin is not loaded when 7zz is on PATH (requiring it costs ~5 ms)', async (_l, extra) => {
    const env = await setup();
    const src = join(dir, `load${n++}`);
    await mkdir(src);
    await writeFile(join(src, 'a.txt'), 'abc\n');
    // every CommonJS module the process loaded, written as it exits
    const preload = join(dir, `loaded${n}.cjs`);
    const list = join(dir, `loaded${n}.txt`);
    await writeFile(
      preload,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, Object.keys(require('node:module')._cache).join('\\n')));`,
    );
    const r = await runCli(['add', src, '--no-seed', '--json', ...extra], {
      env: { ...env, NODE_OPTIONS: `--require ${preload}` },
      input: `${PASSWORD}\n`,
    });
    expect(r.code, r.stderr).toBe(0);
    const loaded = (await readFile(list, 'utf8')).split('\n');
    expect(loaded).toContain(preload); // the list is real
    expect(loaded.filter((p) => p.includes('7zip-bin'))).toEqual([]);
  });

  it('a fixed level is reported as such; a bad one is a usage error', async () => {
    const env = await setup();
    const src = join(dir, `fixed${n++}`);
    await mkdir(src);
    await writeFile(join(src, 'a'), 'abc\n');
    const r = await runCli(['add', src, '--no-seed', '--password-stdin', '--json', '--level', '0'], {
      env,
      input: `${PASSWORD}\n`,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).level).toEqual({ chosen: 0, auto: false, sampleRatio: null, reason: null });
    for (const bad of ['fast', '10', '-1', '1.5']) {
      const b = await runCli(['add', src, '--no-seed', '--level', bad], { env });
      expect(b.code, bad).toBe(2);
      expect(b.stderr).toContain('--level');
      expect(b.stderr).toContain('or auto');
    }
  });
});
