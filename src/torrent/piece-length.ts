/** Piece length choice: pure. */

export const MIN_PIECE_LENGTH = 16 * 1024;
export const MAX_PIECE_LENGTH = 16 * 1024 * 1024;
/** We pick the smallest power of two that keeps the piece count at or below this (so usually 1001–2000 pieces). */
export const TARGET_MAX_PIECES = 2000;

/**
 * A power of two between 16 KiB and 16 MiB, the smallest that gives at most ~2000 pieces (so between ~1000 and 2000
 * pieces unless clamped): 5 GB → 4 MiB (1193 pieces), 1 GiB → 1 MiB (1024 pieces), anything ≤ 31.25 MiB → 16 KiB.
 */
export function choosePieceLength(totalBytes: number): number {
  if (!Number.isFinite(totalBytes) || totalBytes < 0)
    throw new RangeError(`totalBytes must be a non-negative number, got ${totalBytes}`);
  let len = MIN_PIECE_LENGTH;
  while (len < MAX_PIECE_LENGTH && Math.ceil(totalBytes / len) > TARGET_MAX_PIECES) len *= 2;
  return len;
}

export function isValidPieceLength(n: number): boolean {
  return Number.isInteger(n) && n >= MIN_PIECE_LENGTH && n <= MAX_PIECE_LENGTH && (n & (n - 1)) === 0;
}
