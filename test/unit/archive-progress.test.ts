import { describe, expect, it } from 'vitest';
import { createProgressParser, parseProgressLine, type ProgressUpdate } from '../../src/archive/progress.js';

const B = (n: number) => '\x08'.repeat(n);
// stdout of `7zz a … -bso0 -bsp1` as captured (4 files, -mx5)
const CAPTURED =
  `  0M Scan  /tmp/szx/pg/${B(23)}${' '.repeat(23)}${B(23)}  0%${B(4)}    ${B(4)} 16% + d/r.bin${B(14)}${' '.repeat(14)}${B(14)}` +
  ` 47% 1 + d/sub/f1.txt${B(21)}${' '.repeat(21)}${B(21)} 66% 2 + d/sub/f2.txt${B(21)}${' '.repeat(21)}${B(21)}` +
  ` 85% 3 + d/sub/f3.txt${B(21)}${' '.repeat(21)}${B(21)}100% 4 + d/sub/f3.txt${B(21)}${' '.repeat(21)}${B(21)}`;

describe('parseProgressLine', () => {
  it.each([
    ['  0%', { percent: 0 }],
    [' 16% + d/r.bin', { percent: 16, file: 'd/r.bin' }],
    [' 47% 1 + d/sub/f1.txt', { percent: 47, file: 'd/sub/f1.txt' }],
    ['100% 4 + d/sub/f3.txt', { percent: 100, file: 'd/sub/f3.txt' }],
    [' 35% T big file.bin', { percent: 35, file: 'big file.bin' }],
    [' 12% 3 - out/é 😀.txt', { percent: 12, file: 'out/é 😀.txt' }],
    [' 50% 2', { percent: 50 }],
    ['  0M Scan  /tmp/x/', null],
    ['     ', null],
    ['', null],
    ['250%', null],
  ])('%j', (line, expected) => expect(parseProgressLine(line)).toEqual(expected));
});

describe('createProgressParser', () => {
  const expected: ProgressUpdate[] = [
    { percent: 0 },
    { percent: 16, file: 'd/r.bin' },
    { percent: 47, file: 'd/sub/f1.txt' },
    { percent: 66, file: 'd/sub/f2.txt' },
    { percent: 85, file: 'd/sub/f3.txt' },
    { percent: 100, file: 'd/sub/f3.txt' },
  ];

  it('parses the captured stream in one chunk', () => {
    const got: ProgressUpdate[] = [];
    createProgressParser((u) => got.push(u))(CAPTURED);
    expect(got).toEqual(expected);
  });

  it.each([[1], [3], [7], [20]])('gives the same result for chunks of %i characters', (size) => {
    const got: ProgressUpdate[] = [];
    const feed = createProgressParser((u) => got.push(u));
    for (let i = 0; i < CAPTURED.length; i += size) feed(CAPTURED.slice(i, i + size));
    expect(got).toEqual(expected);
  });

  it('never goes backwards and does not repeat', () => {
    const got: number[] = [];
    const feed = createProgressParser((u) => got.push(u.percent));
    feed(` 40%${B(4)} 40%${B(4)} 30%${B(4)} 41%${B(4)}`);
    expect(got).toEqual([40, 41]);
  });

  it('does not emit a status until it has been erased (it may still be arriving)', () => {
    const got: number[] = [];
    const feed = createProgressParser((u) => got.push(u.percent));
    feed(' 4');
    feed('5% + a');
    expect(got).toEqual([]);
    feed('bc' + B(10));
    expect(got).toEqual([45]);
  });
});
