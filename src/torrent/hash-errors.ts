/** The errors both hashing engines give, worded the same whichever thread noticed. */
import { QshareError } from '../errors.js';

export function interrupted(): QshareError {
  return new QshareError(
    'INTERRUPTED',
    'Creating the torrent was interrupted; nothing was written. Run the command again to start over.',
  );
}

export function changed(p: string): QshareError {
  return new QshareError(
    'INPUT',
    `${p} changed while it was being read; wait until nothing is writing to it, then run the command again.`,
  );
}

export function disappeared(p: string): QshareError {
  return new QshareError('INPUT', `${p} disappeared while the torrent was being created; run the command again.`);
}

export function denied(p: string): QshareError {
  return new QshareError('INPUT', `Cannot read ${p}: permission denied; fix its permissions or leave it out.`);
}
