/** The link target named to the user: the one the archive holds, not the one 7-Zip rewrote below its folder. */
import { describe, expect, it } from 'vitest';
import { storedTarget } from '../../src/archive/unpack.js';

describe('storedTarget', () => {
  it.each([
    ['/home/me/got/.qshare-unpack-ab12/etc', '/home/me/got/.qshare-unpack-ab12', '/etc'],
    ['/home/me/got/.qshare-unpack-ab12/etc/passwd', '/home/me/got/.qshare-unpack-ab12/', '/etc/passwd'],
    ['/etc', '/home/me/got/.qshare-unpack-ab12', '/etc'],
    ['../../x', '/home/me/got/.qshare-unpack-ab12', '../../x'],
    [
      '/home/me/got/.qshare-unpack-ab12x/etc',
      '/home/me/got/.qshare-unpack-ab12',
      '/home/me/got/.qshare-unpack-ab12x/etc',
    ],
  ])('%s under %s → %s', (target, out, want) => expect(storedTarget(target, out)).toBe(want));
});
