import { describe, expect, it } from 'vitest';
import { choosePieceLength, isValidPieceLength } from '../../src/torrent/piece-length.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

describe('choosePieceLength', () => {
  it.each([
    [0, 16 * KiB],
    [1, 16 * KiB],
    [1_000_000, 16 * KiB],
    [2000 * 16 * KiB, 16 * KiB], // exactly 2000 pieces
    [2000 * 16 * KiB + 1, 32 * KiB], // 2001 → doubles
    [100_000_000, 64 * KiB], // 1526 pieces
    [700 * MiB, 512 * KiB], // 1400 pieces
    [1 * GiB, 1 * MiB], // 1024
    [4.7e9, 4 * MiB], // DVD: 1121
    [5e9, 4 * MiB], // 1193
    [10 * GiB, 8 * MiB], // 1280
    [25e9, 16 * MiB], // 1491
    [100 * GiB, 16 * MiB], // clamped: 6400 pieces
    [10 * 1024 * GiB, 16 * MiB], // clamped
  ])('%d bytes → %d', (total, expected) => {
    const len = choosePieceLength(total);
    expect(len).toBe(expected);
    expect(isValidPieceLength(len)).toBe(true);
  });

  it('keeps 1000–2000 pieces between the clamps', () => {
    for (let total = 40 * MiB; total < 30 * GiB; total = Math.floor(total * 1.37)) {
      const pieces = Math.ceil(total / choosePieceLength(total));
      expect(pieces, `${total}`).toBeGreaterThan(1000);
      expect(pieces, `${total}`).toBeLessThanOrEqual(2000);
    }
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('rejects %d', (n) => {
    expect(() => choosePieceLength(n)).toThrow(RangeError);
  });
});

describe('isValidPieceLength', () => {
  it.each([
    [16 * KiB, true],
    [32 * KiB, true],
    [16 * MiB, true],
    [8 * KiB, false],
    [32 * MiB, false],
    [48 * KiB, false],
    [16 * KiB + 0.5, false],
    [0, false],
  ])('%d → %s', (n, ok) => expect(isValidPieceLength(n)).toBe(ok));
});
