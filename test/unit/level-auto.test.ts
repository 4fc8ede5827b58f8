import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseLevel, planSample, sampleAndChooseLevel } from '../../src/share/level.js';

describe('chooseLevel', () => {
  it.each([
    ['nothing sampled', 0, 0, 0, null],
    ['random bytes (deflate adds a little)', 0, 1000, 1003, 1.003],
    ['JPEG-like: 2 % saved', 0, 1000, 980, 0.98],
    ['just at the threshold: 10 % saved is not enough', 0, 1000, 900, 0.9],
    ['just below it', 1, 1000, 899, 0.899],
    ['text: a quarter of its size', 1, 4_000_000, 1_000_000, 0.25],
    ['zeros', 1, 1000, 10, 0.01],
  ])('%s → level %i', (_l, level, sampled, compressed, ratio) => {
    const c = chooseLevel(sampled, compressed);
    expect(c.level).toBe(level);
    expect(c.sampleRatio).toBe(ratio);
    expect(c.reason).toContain(level === 0 ? 'store (level 0)' : 'fast compression (level 1)');
  });
});

describe('planSample', () => {
  it('nothing to read for no bytes', () => {
    expect(planSample([])).toEqual([]);
    expect(planSample([0, 0])).toEqual([]);
  });

  it('small inputs are read whole, in chunks, skipping empty files', () => {
    expect(planSample([10, 0, 25], 4, 10)).toEqual([
      { file: 0, offset: 0, length: 10 },
      { file: 2, offset: 0, length: 10 },
      { file: 2, offset: 10, length: 10 },
      { file: 2, offset: 20, length: 5 },
    ]);
  });

  it('one big file: evenly spaced chunks centred on their points', () => {
    expect(planSample([1000], 4, 10)).toEqual([
      { file: 0, offset: 120, length: 10 },
      { file: 0, offset: 370, length: 10 },
      { file: 0, offset: 620, length: 10 },
      { file: 0, offset: 870, length: 10 },
    ]);
  });

  it('files are sampled by their weight in bytes; reads stay inside their file; no read twice', () => {
    const sizes = [5, 3000, 0, 7, 1000];
    const plan = planSample(sizes, 8, 100);
    for (const r of plan) {
      expect(r.offset).toBeGreaterThanOrEqual(0);
      expect(r.offset + r.length).toBeLessThanOrEqual(sizes[r.file]!);
    }
    expect(plan.filter((r) => r.file === 1)).toHaveLength(6);
    expect(plan.filter((r) => r.file === 4)).toHaveLength(2);
    expect(new Set(plan.map((r) => `${r.file}:${r.offset}`)).size).toBe(plan.length);
    // files ordered, so each is opened once
    for (let i = 1; i < plan.length; i++) expect(plan[i]!.file).toBeGreaterThanOrEqual(plan[i - 1]!.file);
  });

  it('many tiny files: more, smaller reads (at most 512), each a whole file, spread over all of them', () => {
    const plan = planSample(new Array(10_000).fill(100), 64, 64 * 1024);
    expect(plan).toHaveLength(512);
    expect(plan.every((r) => r.length === 100 && r.offset === 0)).toBe(true);
    expect(plan[0]!.file).toBeLessThan(20);
    expect(plan.at(-1)!.file).toBeGreaterThan(9980);
  });

  it('a few small files are read whole', () => {
    expect(planSample(new Array(100).fill(1000), 64, 64 * 1024)).toHaveLength(100);
  });
});

describe('sampleAndChooseLevel on real files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'qshare-level-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const text = (n: number) => {
    const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'and', 'runs', 'away', 'again'];
    const r = randomBytes(n);
    let s = '';
    for (let i = 0; s.length < n; i++) s += words[r[i]! % words.length] + (r[i]! % 17 === 0 ? '.\n' : ' ');
    return s.slice(0, n);
  };

  it.each([
    ['random data (like video)', 0, () => [randomBytes(8 << 20)]],
    [
      'gzip files (already compressed)',
      0,
      () => [gzipSync(Buffer.from(text(6 << 20))), gzipSync(Buffer.from(text(3 << 20) + 'x'))],
    ],
    ['text', 1, () => [Buffer.from(text(8 << 20))]],
    ['mostly media, a little text', 0, () => [randomBytes(8 << 20), Buffer.from(text(1 << 20))]],
    ['mostly text, a little media', 1, () => [randomBytes(1 << 20), Buffer.from(text(8 << 20))]],
  ])('%s → level %i', async (label, want, make) => {
    const files = make().map((b, i) => {
      const absPath = path.join(dir, `${label.replace(/\W/g, '')}-${i}`);
      writeFileSync(absPath, b);
      return { absPath, length: b.length };
    });
    const c = await sampleAndChooseLevel(files);
    expect(c.level).toBe(want);
    expect(c.sampledBytes).toBeGreaterThan(1 << 20);
    expect(c.sampledBytes).toBeLessThanOrEqual(4 << 20);
  });

  it('a file that vanished is simply not sampled', async () => {
    const absPath = path.join(dir, 'text-ok');
    writeFileSync(absPath, text(100000));
    const c = await sampleAndChooseLevel([
      { absPath: path.join(dir, 'gone'), length: 100000 },
      { absPath, length: 100000 },
    ]);
    expect(c.level).toBe(1);
    expect(c.sampledBytes).toBe(100000);
  });
});
