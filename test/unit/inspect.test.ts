import { chmod, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isInside } from '../../src/fsx/paths.js';
import { changesBetween, treeStates } from '../../src/fsx/tree.js';
import { archiveBytesNeeded, checkFreeSpace, inspectSource, ownReadable } from '../../src/share/inspect.js';
import { listFiles } from '../../src/torrent/files.js';

async function tree() {
  const root = await mkdtemp(join(tmpdir(), 'qshare-inspect-'));
  const data = join(root, 'data');
  await mkdir(data);
  const src = join(root, 'photos');
  await mkdir(join(src, 'a', 'empty'), { recursive: true });
  await writeFile(join(src, 'a', 'x.jpg'), Buffer.alloc(1000));
  await writeFile(join(src, 'y.txt'), 'hello');
  await symlink('/etc/hostname', join(src, 'link'));
  return { root, data, src };
}

describe('inspectSource', () => {
  it('counts files, folders and links without following links', async () => {
    const { data, src } = await tree();
    const info = await inspectSource(src, data);
    expect(info).toMatchObject({ kind: 'dir', totalBytes: 1005, fileCount: 2, dirCount: 2, linkCount: 1 });
  });
  it('records the states the archive step compares against: the same as a walk of its own (treeStates), for a folder and a file', async () => {
    const { data, src } = await tree();
    const info = await inspectSource(src, data, { states: true });
    expect(info.states).toBeDefined();
    if (!info.states) return;
    expect((await inspectSource(src, data)).states).toBeUndefined();
    expect([...info.states.keys()].sort()).toEqual(['', 'a', 'a/empty', 'a/x.jpg', 'link', 'y.txt']);
    expect(info.states).toEqual(await treeStates(src));
    const file = await inspectSource(join(src, 'y.txt'), data, { states: true });
    expect(file.states).toEqual(await treeStates(join(src, 'y.txt')));
    await writeFile(join(src, 'y.txt'), 'hello!');
    expect(changesBetween(info.states, await treeStates(src)).shown).toEqual(['"y.txt" changed']);
  });
  it.each([
    ['missing', (t: { root: string }) => join(t.root, 'nope'), /does not exist/],
    [
      'an empty folder',
      async (t: { root: string }) => {
        const p = join(t.root, 'e');
        await mkdir(join(p, 'sub'), { recursive: true });
        return p;
      },
      /is empty/,
    ],
    [
      'an empty file',
      async (t: { root: string }) => {
        const p = join(t.root, 'z');
        await writeFile(p, '');
        return p;
      },
      /is empty \(0 bytes\)/,
    ],
    [
      'inside the data folder',
      async (t: { data: string }) => {
        const p = join(t.data, 'x');
        await writeFile(p, 'x');
        return p;
      },
      /inside qshare's own data folder/,
    ],
    ['containing the data folder', (t: { root: string }) => t.root, /contains qshare's own data folder/],
    [
      'a link that loops',
      async (t: { root: string }) => {
        const p = join(t.root, 'loop');
        await symlink('loop', p);
        return p;
      },
      /loop is a symbolic link that loops back on itself/,
    ],
    [
      'a dangling link',
      async (t: { root: string }) => {
        const p = join(t.root, 'dangling');
        await symlink(join(t.root, 'gone'), p);
        return p;
      },
      /dangling is a symbolic link to something that does not exist/,
    ],
    [
      'a FIFO inside',
      async (t: { src: string }) => {
        const { execFileSync } = await import('node:child_process');
        execFileSync('mkfifo', [join(t.src, 'pipe')]);
        return t.src;
      },
      /pipe is a special file/,
    ],
  ])('refuses %s', async (_what, make, re) => {
    const t = await tree();
    const p = await make(t as never);
    await expect(inspectSource(p, t.data)).rejects.toThrow(re);
  });
  it('reads names as bytes: one that is not UTF-8 is counted, and listed (escaped) in nonUtf8', async () => {
    const t = await tree();
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(Buffer.from(`${t.src}/dossier \xe9t\xe9`, 'latin1'));
    writeFileSync(Buffer.from(`${t.src}/dossier \xe9t\xe9/caf\xe9`, 'latin1'), 'abc');
    const info = await inspectSource(t.src, t.data);
    expect(info).toMatchObject({ totalBytes: 1008, fileCount: 3, dirCount: 3 });
    expect(info.nonUtf8.sort()).toEqual(['dossier \\xe9t\\xe9', 'dossier \\xe9t\\xe9/caf\\xe9']);
  });
  it.each<[string, Record<string, string | null>]>([
    [
      'files, empty files, an empty folder, a link',
      { 'a/x.jpg': 'x'.repeat(1000), 'a/empty/': null, 'y.txt': 'hello', z0: '', link: '->/etc/hostname' },
    ],
    [
      `mktorrent's byte order ("a b/x" < "a-b" < "a/x" < "a0")`,
      { 'a/x': '1', a0: '2', 'a-b': '3', 'a b/x': '4', B: '5' },
    ],
    ['UTF-8 names, deep folders, links to folders', { 'é/ü/ß.txt': 'u', 'z/y/x/w/v': 'deep', ln: '->z', Ω: 'o' }],
  ])('records the --no-encrypt torrent listing in the same walk: the same as listFiles (%s)', async (_what, layout) => {
    const t = await tree();
    const root = join(t.root, 'share');
    await mkdir(root);
    for (const [rel, content] of Object.entries(layout)) {
      const p = join(root, rel);
      await mkdir(join(p, '..'), { recursive: true });
      if (content === null) await mkdir(p, { recursive: true });
      else if (content.startsWith('->')) await symlink(content.slice(2), p);
      else await writeFile(p, content);
    }
    const info = await inspectSource(root, t.data, { files: true });
    expect(info.files).toEqual(await listFiles(root));
    expect(info.states).toBeUndefined();
    expect((await inspectSource(root, t.data)).files).toBeUndefined();
    const one = join(root, Object.keys(layout)[0]!);
    expect((await inspectSource(one, t.data, { files: true })).files).toEqual(await listFiles(one));
  });
  it.each([
    ['own file, owner may read', 1000, 1000, 0o400, true],
    ['own file, mode 644', 1000, 1000, 0o644, true],
    ['own file, owner may not read (others may)', 1000, 1000, 0o044, false],
    ["someone else's file, world-readable (an ACL may still deny: ask the kernel)", 1000, 1001, 0o644, false],
    ['uid unknown (no geteuid on this platform)', undefined, 1000, 0o644, false],
  ])('ownReadable: %s → %s', (_what, uid, owner, mode, want) => {
    expect(ownReadable({ uid: owner, mode: 0o100000 | mode }, uid)).toBe(want);
  });
  it.skipIf(process.getuid?.() === 0)('refuses an unreadable file', async () => {
    const t = await tree();
    await chmod(join(t.src, 'y.txt'), 0);
    await expect(inspectSource(t.src, t.data)).rejects.toThrow(/cannot be read/);
  });
});

describe('free space', () => {
  it('adds room for headers', () => {
    expect(archiveBytesNeeded(0)).toBe(16 * 1024 * 1024);
    expect(archiveBytesNeeded(1e9)).toBe(1.01e9 + 16 * 1024 * 1024);
  });
  it('refuses when the disk is too small, with both numbers', async () => {
    await expect(checkFreeSpace(tmpdir(), Number.MAX_SAFE_INTEGER, 'the archive')).rejects.toThrow(
      /not enough free space for the archive: it needs about .* which has .* free/,
    );
    await expect(checkFreeSpace(tmpdir(), 1, 'the archive')).resolves.toBeUndefined();
  });
});

describe('isInside', () => {
  it.each([
    ['/a/b', '/a', true],
    ['/a', '/a', true],
    ['/ab', '/a', false],
    ['/a/../b', '/a', false],
  ])('%s in %s → %s', (c, p, r) => expect(isInside(c, p)).toBe(r));
});
