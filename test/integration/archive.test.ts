/**
 * The archive module against the real binaries: /usr/bin/7zz (7-Zip 26) and npm 7zip-bin's 7za (p7zip 16.02).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sevenBin from '7zip-bin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArchive, extractArchive, listArchive, openHeaders, testArchive } from '../../src/archive/archive.js';
import { findSevenZip, type SevenZip } from '../../src/archive/find.js';
import { QshareError } from '../../src/errors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isRoot = process.getuid?.() === 0;

let base: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'qshare-archive-'));
  await chmod(base, 0o755); // the "unreadable file" test runs 7-Zip as nobody
});
afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

let n = 0;
async function freshDir(label: string, mode = 0o700): Promise<string> {
  const d = join(base, `${label}-${++n}`);
  await mkdir(d, { mode });
  await chmod(d, mode);
  return d;
}

/** A map of relative path → what it is: 'dir mode', 'file mode sha256', 'link target'. */
async function snapshot(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const p = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(p);
      if (st.isSymbolicLink()) out.set(r, `link ${await readlink(p)}`);
      else if (st.isDirectory()) {
        out.set(r, `dir ${(st.mode & 0o777).toString(8)}`);
        await walk(p, r);
      } else
        out.set(
          r,
          `file ${(st.mode & 0o777).toString(8)} ${createHash('sha256')
            .update(await readFile(p))
            .digest('hex')}`,
        );
    }
  };
  await walk(root, '');
  return out;
}

async function expectCode(p: Promise<unknown>, code: string): Promise<QshareError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(QshareError);
  expect((err as QshareError).code).toBe(code);
  return err as QshareError;
}

/** Compressible text, a few MB, so -mx5 runs ~0.8 s. */
function numbersText(bytes: number): string {
  const parts: string[] = [];
  let len = 0;
  for (let i = 0; len < bytes; i++) {
    const s = `${i} ${(i * 7919) % 100003}\n`;
    parts.push(s);
    len += s.length;
  }
  return parts.join('');
}

/** The user's folder: nested dirs, an empty dir, awkward names, links inside the folder. */
async function makeTree(parent: string): Promise<string> {
  const root = join(parent, 'My Shared é 😀');
  await mkdir(join(root, 'sub', 'deep'), { recursive: true });
  await mkdir(join(root, 'empty dir'));
  await mkdir(join(root, '-sdel'));
  await writeFile(join(root, 'sub', 'deep', 'random.bin'), randomBytes(64 * 1024));
  await writeFile(join(root, 'name with spaces.txt'), 'spaces\n');
  await writeFile(join(root, '\u00e9t\u00e9.txt'), 'NFC\n'); // été, composed
  await writeFile(join(root, 'e\u0301te\u0301.txt'), 'NFD\n'); // été, decomposed: a different name
  await writeFile(join(root, '😀 emoji.txt'), 'emoji\n');
  await writeFile(join(root, '-rf'), 'not a switch\n');
  await writeFile(join(root, '-sdel', 'keep-me'), 'still here\n');
  await writeFile(join(root, '@names'), 'sub\n');
  await writeFile(join(root, 'st*r?.txt'), 'wildcards\n');
  await writeFile(join(root, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  await symlink('sub/deep/random.bin', join(root, 'link to file'));
  await symlink('sub', join(root, 'link-to-dir'));
  return root;
}

interface Flavour {
  name: string;
  make: (cacheDir: string) => Promise<SevenZip>;
  check: (sz: SevenZip) => void;
}

const flavours: Flavour[] = [
  {
    name: '7zz',
    make: (cacheDir) => findSevenZip({ cacheDir, env: { PATH: '/usr/bin' } }),
    check: (sz) => expect(sz).toMatchObject({ path: '/usr/bin/7zz', flavour: '7zz', legacy: false }),
  },
  {
    name: '7za (7zip-bin, p7zip 16.02)',
    make: async (cacheDir) => {
      // a copy with the package's 0644 mode, so the test does not chmod node_modules
      const copy = join(cacheDir, 'pkg', '7za');
      await mkdir(join(cacheDir, 'pkg'), { recursive: true });
      await copyFile(sevenBin.path7za, copy);
      await chmod(copy, 0o644);
      return findSevenZip({ cacheDir, env: { PATH: '' }, bundled: copy });
    },
    check: (sz) => expect(sz).toMatchObject({ flavour: '7za', version: '16.02', legacy: true }),
  },
];

describe.each(flavours)('archive with $name', (flavour) => {
  let sz: SevenZip;
  let bigSrc: string;
  const password = `Pw ${randomBytes(8).toString('hex')} é`;

  beforeAll(async () => {
    sz = await flavour.make(await freshDir('cache', 0o755));
    flavour.check(sz);
    bigSrc = join(await freshDir('big'), 'numbers');
    await mkdir(bigSrc);
    const text = numbersText(2 * 1024 * 1024);
    await writeFile(join(bigSrc, 'a.txt'), text);
    await writeFile(join(bigSrc, 'b.txt'), text.split('\n').reverse().join('\n'));
  });

  it('openHeaders (the check before publishing) opens with the password and fails with another, reading no file', async () => {
    const out = await freshDir('heads');
    const archive = join(out, 'h.7z');
    await createArchive({ sz, source: bigSrc, outPath: archive, password, level: 0, verify: false });
    await openHeaders({ sz, archivePath: archive, password });
    await expect(openHeaders({ sz, archivePath: archive, password: 'not the password' })).rejects.toThrow(QshareError);
    // an archive with nothing hidden (no -mhe) opens with any password: the check relies on encrypted headers
    const plain = join(out, 'plain.7z');
    execFileSync(sz.path.endsWith('7zz') ? sz.path : '/usr/bin/7zz', ['a', '-bso0', '--', plain, bigSrc]);
    await openHeaders({ sz, archivePath: plain, password: 'anything' });
  });

  it('round-trips a tree; names are hidden without the password; the source is untouched', async () => {
    const srcParent = await freshDir('src');
    const root = await makeTree(srcParent);
    const before = await snapshot(srcParent);
    const out = await freshDir('out');
    const archive = join(out, 'share.7z');

    const res = await createArchive({ sz, source: root, outPath: archive, password, level: 0 });
    expect(res.files).toEqual([archive]);
    expect(res.bytes).toBeGreaterThan(64 * 1024);
    expect(await readdir(out)).toEqual(['share.7z']);

    // without the password: no listing, and no name anywhere in the bytes (UTF-8 or UTF-16LE)
    await expectCode(listArchive({ sz, archivePath: archive }), 'WRONG_PASSWORD');
    const bytes = await readFile(archive);
    for (const name of ['My Shared', 'random.bin', 'name with spaces', 'keep-me']) {
      expect(bytes.includes(Buffer.from(name, 'utf8')), name).toBe(false);
      expect(bytes.includes(Buffer.from(name, 'utf16le')), name).toBe(false);
    }

    const entries = await listArchive({ sz, archivePath: archive, password });
    const byPath = new Map(entries.map((e) => [e.path, e]));
    expect(byPath.get('My Shared é 😀')?.kind).toBe('dir');
    expect(byPath.get('My Shared é 😀/empty dir')?.kind).toBe('dir');
    expect(byPath.get('My Shared é 😀/-rf')).toMatchObject({ kind: 'file', size: 13, encrypted: true });
    expect(byPath.get('My Shared é 😀/link to file')).toMatchObject({
      kind: 'symlink',
      size: 'sub/deep/random.bin'.length,
    });
    expect(byPath.has('My Shared é 😀/e\u0301te\u0301.txt')).toBe(true);
    expect(byPath.has('My Shared é 😀/\u00e9t\u00e9.txt')).toBe(true);
    expect(entries).toHaveLength(before.size);

    await testArchive({ sz, archivePath: archive, password });
    const dest = join(await freshDir('dest'), 'x');
    await extractArchive({ sz, archivePath: archive, outDir: dest, password });
    expect(await readdir(dest)).toEqual(['My Shared é 😀']);
    const after = await snapshot(dest);
    expect(after).toEqual(before);
    expect(await snapshot(srcParent)).toEqual(before);
  });

  it('a source folder named -sdel (with -rf and @names inside) is archived and nothing is deleted', async () => {
    const parent = await freshDir('sdel');
    const src = join(parent, '-sdel');
    await mkdir(src);
    await writeFile(join(src, '-rf'), 'x');
    await writeFile(join(src, '@names'), '-rf\n');
    const before = await snapshot(parent);
    const archive = join(await freshDir('out'), '-rf.7z');
    await createArchive({ sz, source: src, outPath: archive, password, level: 0 });
    expect(await snapshot(parent)).toEqual(before);
    const paths = (await listArchive({ sz, archivePath: archive, password })).map((e) => e.path).sort();
    expect(paths).toEqual(['-sdel', '-sdel/-rf', '-sdel/@names']);
  });

  it('a source named like a wildcard (st*r) is taken literally: its sibling stXr stays out', async () => {
    const parent = await freshDir('wild');
    for (const d of ['st*r', 'stXr']) {
      await mkdir(join(parent, d));
      await writeFile(join(parent, d, 'f'), d);
    }
    const archive = join(await freshDir('out'), 'w.7z');
    await createArchive({ sz, source: join(parent, 'st*r'), outPath: archive, password, level: 0 });
    expect((await listArchive({ sz, archivePath: archive, password })).map((e) => e.path).sort()).toEqual([
      'st*r',
      'st*r/f',
    ]);
  });

  it('stores a link to a file outside the folder as a link, without that file’s content', async () => {
    const parent = await freshDir('outside');
    const secret = 'OUTSIDE-CONTENT '.repeat(4096);
    await writeFile(join(parent, 'outside.txt'), secret);
    const src = join(parent, 'folder');
    await mkdir(src);
    await symlink('../outside.txt', join(src, 'link'));
    await symlink(join(parent, 'outside.txt'), join(src, 'abs-link'));
    const archive = join(await freshDir('out'), 'o.7z');
    const res = await createArchive({ sz, source: src, outPath: archive, password, level: 0 });
    expect(res.bytes).toBeLessThan(secret.length);
    const entries = await listArchive({ sz, archivePath: archive, password });
    expect(entries.find((e) => e.path === 'folder/link')).toMatchObject({
      kind: 'symlink',
      size: '../outside.txt'.length,
    });
    expect(entries.find((e) => e.path === 'folder/abs-link')).toMatchObject({
      kind: 'symlink',
      size: join(parent, 'outside.txt').length,
    });
  });

  it('never puts the password in any /proc/*/cmdline (or environ) while 7-Zip runs, and reports progress', async () => {
    const out = await freshDir('out');
    const needle = Buffer.from(password);
    let running = true;
    let seen = 0;
    const leaks = new Set<string>();
    const poll = (async () => {
      while (running) {
        for (const pid of readdirSync('/proc')) {
          if (!/^\d+$/.test(pid)) continue;
          try {
            const cmd = readFileSync(`/proc/${pid}/cmdline`);
            if (cmd.includes(needle)) leaks.add(`${pid} cmdline`);
            const argv = cmd.toString('utf8').split('\0');
            if (argv[0] === sz.path && argv[1] === 'a') {
              seen++;
              if (readFileSync(`/proc/${pid}/environ`).includes(needle)) leaks.add(`${pid} environ`);
            }
          } catch {
            // the process ended meanwhile
          }
        }
        await sleep(3);
      }
    })();
    const percents: number[] = [];
    try {
      await createArchive({
        sz,
        source: bigSrc,
        outPath: join(out, 'big.7z'),
        password,
        level: 5,
        onProgress: (p) => percents.push(p),
      });
    } finally {
      running = false;
      await poll;
    }
    expect(seen, 'the poller must have seen 7-Zip running').toBeGreaterThan(0);
    expect([...leaks]).toEqual([]);
    expect(percents.length).toBeGreaterThanOrEqual(2);
    expect(new Set(percents).size).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < percents.length; i++) expect(percents[i]).toBeGreaterThanOrEqual(percents[i - 1] as number);
    expect(Math.max(...percents)).toBeLessThanOrEqual(100);
  });

  it('abort mid-create: INTERRUPTED and no partial file left', async () => {
    const out = await freshDir('out');
    const ac = new AbortController();
    let sawPartial = false;
    const p = createArchive({
      sz,
      source: bigSrc,
      outPath: join(out, 'big.7z'),
      password,
      level: 5,
      signal: ac.signal,
      onProgress: (percent) => {
        if (percent > 0 && !ac.signal.aborted) {
          sawPartial = readdirSync(out).some((f) => f.startsWith('.big.7z.partial-'));
          ac.abort();
        }
      },
    });
    await expectCode(p, 'INTERRUPTED');
    expect(sawPartial, '7-Zip had started writing').toBe(true);
    expect(await readdir(out)).toEqual([]);
  });

  it('an already aborted signal: INTERRUPTED, nothing written', async () => {
    const out = await freshDir('out');
    const ac = new AbortController();
    ac.abort();
    await expectCode(
      createArchive({ sz, source: bigSrc, outPath: join(out, 'a.7z'), password, level: 0, signal: ac.signal }),
      'INTERRUPTED',
    );
    expect(await readdir(out)).toEqual([]);
  });

  it('refuses an existing destination and leaves it alone', async () => {
    const out = await freshDir('out');
    const dst = join(out, 'exists.7z');
    await writeFile(dst, 'precious');
    await expectCode(createArchive({ sz, source: bigSrc, outPath: dst, password, level: 0 }), 'INPUT');
    expect(await readFile(dst, 'utf8')).toBe('precious');
    expect(await readdir(out)).toEqual(['exists.7z']);
  });

  it('refuses an empty password and an archive inside the source, before running 7-Zip', async () => {
    const out = await freshDir('out');
    await expectCode(
      createArchive({ sz, source: bigSrc, outPath: join(out, 'e.7z'), password: '', level: 0 }),
      'USAGE',
    );
    await expectCode(
      createArchive({ sz, source: bigSrc, outPath: join(bigSrc, 'inside.7z'), password, level: 0 }),
      'USAGE',
    );
    expect(await readdir(out)).toEqual([]);
    expect((await readdir(bigSrc)).sort()).toEqual(['a.txt', 'b.txt']);
  });

  describe('reading', () => {
    let archive: string;
    beforeAll(async () => {
      const src = join(await freshDir('small'), 'small');
      await mkdir(src);
      await writeFile(join(src, 'f.txt'), 'hello\n'.repeat(1000));
      await writeFile(join(src, 'g.bin'), randomBytes(20_000));
      archive = join(await freshDir('out'), 'small.7z');
      await createArchive({ sz, source: src, outPath: archive, password, level: 1, verify: false });
    });

    it('wrong password on test and extract → WRONG_PASSWORD, nothing extracted', async () => {
      const e = await expectCode(testArchive({ sz, archivePath: archive, password: 'not it' }), 'WRONG_PASSWORD');
      expect(e.message).not.toContain('not it');
      const dest = join(await freshDir('dest'), 'x');
      await expectCode(
        extractArchive({ sz, archivePath: archive, outDir: dest, password: 'not it' }),
        'WRONG_PASSWORD',
      );
      expect(await readdir(dest)).toEqual([]);
      await expectCode(listArchive({ sz, archivePath: archive, password: 'not it' }), 'WRONG_PASSWORD');
    });

    it('a truncated archive → ARCHIVE_CORRUPT; a missing one → NOT_FOUND', async () => {
      const cut = join(await freshDir('cut'), 'cut.7z');
      await copyFile(archive, cut);
      await truncate(cut, 5000);
      await expectCode(testArchive({ sz, archivePath: cut, password }), 'ARCHIVE_CORRUPT');
      await expectCode(testArchive({ sz, archivePath: join(base, 'nope.7z'), password }), 'NOT_FOUND');
    });

    it('refuses to extract into a non-empty folder', async () => {
      const dest = await freshDir('dest');
      await writeFile(join(dest, 'mine'), 'x');
      await expectCode(extractArchive({ sz, archivePath: archive, outDir: dest, password }), 'INPUT');
      expect(await readdir(dest)).toEqual(['mine']);
    });
  });

  it.skipIf(!isRoot)('a file 7-Zip cannot read → SEVENZIP_FAILED naming it, no archive left', async () => {
    // run 7-Zip as nobody through a wrapper, so permissions apply (root reads everything)
    const work = await freshDir('perm', 0o777);
    const bin = join(work, 'sz-bin');
    await copyFile(sz.path, bin);
    await chmod(bin, 0o755);
    const wrapper = join(work, 'as-nobody.sh');
    await writeFile(wrapper, `#!/bin/sh\nexec setpriv --reuid=nobody --regid=nogroup --clear-groups ${bin} "$@"\n`, {
      mode: 0o755,
    });
    const src = join(work, 'src');
    await mkdir(src, { mode: 0o755 });
    await chmod(src, 0o755);
    await writeFile(join(src, 'ok.txt'), 'ok', { mode: 0o644 });
    await writeFile(join(src, 'locked.txt'), 'no', { mode: 0o000 });
    const out = join(work, 'out');
    await mkdir(out, { mode: 0o777 });
    await chmod(out, 0o777);
    const e = await expectCode(
      createArchive({ sz: { ...sz, path: wrapper }, source: src, outPath: join(out, 'p.7z'), password, level: 0 }),
      'SEVENZIP_FAILED',
    );
    expect(e.message).toContain('locked.txt');
    expect(e.message).toContain('Permission denied');
    expect(await readdir(out)).toEqual([]);
  });
});

describe('7zz only', () => {
  let sz: SevenZip;
  const password = '7zz-only-pw';
  beforeAll(async () => {
    sz = await findSevenZip({ cacheDir: join(base, 'cache-7zz'), env: { PATH: '/usr/bin' } });
  });

  it.skipIf(!isRoot)('disk full → DISK_FULL and nothing left behind', async (ctx) => {
    const mnt = await freshDir('small-fs');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      ctx.skip(); // cannot mount here
      return;
    }
    try {
      const src = join(await freshDir('full'), 'f');
      await mkdir(src);
      await writeFile(join(src, 'r.bin'), randomBytes(1024 * 1024));
      await expectCode(createArchive({ sz, source: src, outPath: join(mnt, 'f.7z'), password, level: 0 }), 'DISK_FULL');
      expect(await readdir(mnt)).toEqual([]);
    } finally {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
    }
  });
});

describe('7za: the empty-password danger', () => {
  it('a p7zip that got no password on stdin (so encrypted with the EMPTY one) is caught by the check; nothing published', async () => {
    const cache = await freshDir('cache', 0o755);
    const copy = join(cache, '7za-0644');
    await copyFile(sevenBin.path7za, copy);
    const real = await findSevenZip({ cacheDir: cache, env: { PATH: '' }, bundled: copy });
    const wrapper = join(cache, 'drop-stdin.sh');
    // drops stdin for `a` only; the check (`t -x!*`: the encrypted headers only) gets the real password
    await writeFile(
      wrapper,
      `#!/bin/sh\nif [ "$1" = a ]; then exec ${real.path} "$@" </dev/null; fi\nexec ${real.path} "$@"\n`,
      { mode: 0o755 },
    );
    const src = join(await freshDir('danger'), 'd');
    await mkdir(src);
    await writeFile(join(src, 'x.txt'), 'x');
    const out = await freshDir('out');
    const e = await expectCode(
      createArchive({
        sz: { ...real, path: wrapper },
        source: src,
        outPath: join(out, 'd.7z'),
        password: 'real-password',
        level: 0,
      }),
      'SEVENZIP_FAILED',
    );
    expect(e.message).toMatch(/did not open with its password/);
    expect(await readdir(out)).toEqual([]);
  });
});
