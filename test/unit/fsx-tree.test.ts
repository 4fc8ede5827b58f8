import { mkdtemp, symlink, unlink, utimes, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changesBetween, displayPath, isUtf8, treeStates, treeUnchanged, walkTree } from '../../src/fsx/tree.js';

const latin1 = (s: string) => Buffer.from(s, 'latin1');

describe('displayPath', () => {
  it.each([
    ['plain', Buffer.from('Fotos/été 🎉.jpg'), 'Fotos/été 🎉.jpg'],
    ['latin-1 bytes', latin1('caf\xe9'), 'caf\\xe9'],
    ['a lone continuation byte', latin1('x\x80y'), 'x\\x80y'],
    ['a truncated sequence', Buffer.from([0x61, 0xe2, 0x82]), 'a\\xe2\\x82'],
    ['an overlong encoding', Buffer.from([0xc0, 0xaf]), '\\xc0\\xaf'],
    ['a newline and a tab', Buffer.from('a\nb\tc'), 'a\\nb\\tc'],
    ['other control characters', Buffer.from('a\x1bb\x7f'), 'a\\x1bb\\x7f'],
  ])('%s', (_w, input, shown) => {
    expect(displayPath(input)).toBe(shown);
  });
  it('isUtf8', () => {
    expect(isUtf8(Buffer.from('é'))).toBe(true);
    expect(isUtf8(latin1('\xe9'))).toBe(false);
  });
});

describe('treeStates / changesBetween (real files)', () => {
  it('finds names that are not UTF-8, and every change, addition and removal; files before folders', async () => {
    const root = await mkdtemp(join(tmpdir(), 'qshare-tree-'));
    await mkdir(join(root, 'sub'));
    await writeFile(join(root, 'sub', 'a.txt'), 'a');
    await writeFile(Buffer.from(`${root}/caf\xe9`, 'latin1'), 'b');
    await symlink('sub/a.txt', join(root, 'link'));
    const seen: string[] = [];
    await walkTree(root, { onEntry: (e) => seen.push(displayPath(e.rel)) });
    expect(seen.sort()).toEqual(['caf\\xe9', 'link', 'sub', 'sub/a.txt']);

    const before = await treeStates(root);
    expect(changesBetween(before, await treeStates(root))).toEqual({ count: 0, shown: [] });

    await utimes(join(root, 'sub', 'a.txt'), new Date(0), new Date(0)); // same size, older mtime
    await unlink(Buffer.from(`${root}/caf\xe9`, 'latin1'));
    await writeFile(join(root, 'sub', 'new'), 'n');
    await unlink(join(root, 'link'));
    await symlink('elsewhere', join(root, 'link')); // same name, another target
    const d = changesBetween(before, await treeStates(root), 10);
    expect(d.shown.slice(0, 4).sort()).toEqual([
      '"caf\\xe9" disappeared',
      '"link" changed',
      '"sub/a.txt" changed',
      '"sub/new" appeared',
    ]);
    expect(d.shown.slice(4).sort()).toEqual(['"sub" changed', 'the folder itself changed']);
    const gone = changesBetween(before, new Map(), 2);
    expect(gone.count).toBe(before.size);
    expect(gone.shown).toHaveLength(2);
  });

  it('a single file: its own state only', async () => {
    const root = await mkdtemp(join(tmpdir(), 'qshare-tree-'));
    const f = join(root, 'f');
    await writeFile(f, 'x');
    const s = await treeStates(f);
    expect([...s.keys()]).toEqual(['']);
    await writeFile(f, 'y');
    expect(changesBetween(s, await treeStates(f)).shown).toEqual(['the file itself changed']);
  });

  it('treeUnchanged: true for the same tree; false for each kind of change, walking without a second map', async () => {
    const fresh = async () => {
      const root = await mkdtemp(join(tmpdir(), 'qshare-tree-'));
      await mkdir(join(root, 'sub'));
      for (const n of ['a', 'b', 'c']) await writeFile(join(root, 'sub', n), n);
      await writeFile(join(root, 'top'), 't');
      return { root, before: await treeStates(root) };
    };
    const changes: Array<[string, (root: string) => Promise<unknown>]> = [
      ['a file rewritten with the same size, older', (r) => utimes(join(r, 'sub', 'b'), new Date(0), new Date(0))],
      ['a file removed', (r) => unlink(join(r, 'sub', 'c'))],
      ['a file added at the end', (r) => writeFile(join(r, 'zzz'), 'z')],
      ['a file added in the middle', (r) => writeFile(join(r, 'sub', 'bb'), 'z')],
      ['a file grown', (r) => writeFile(join(r, 'top'), 'tt')],
    ];
    const same = await fresh();
    expect(await treeUnchanged(same.root, same.before)).toBe(true);
    for (const [what, change] of changes) {
      const t = await fresh();
      await change(t.root);
      expect(await treeUnchanged(t.root, t.before), what).toBe(false);
      // and the full comparison agrees that something changed
      expect(changesBetween(t.before, await treeStates(t.root)).count, what).toBeGreaterThan(0);
    }
    const single = await fresh();
    const f = join(single.root, 'top');
    const s = await treeStates(f);
    expect(await treeUnchanged(f, s)).toBe(true);
    await writeFile(f, 'yy');
    expect(await treeUnchanged(f, s)).toBe(false);
    expect(await treeUnchanged(join(single.root, 'gone'), s)).toBe(false);
  });
});
