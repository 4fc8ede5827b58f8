/**
 * Names that break naive code, and a byte-exact picture of a tree to check they survived: for the hardening tests
 * of add, watch and get (issue #7).
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { pseudoRandom } from './tree.js';

/**
 * Every path below root, names as raw bytes (shown as hex where they are not UTF-8), mapped to what it is: the
 * byte-exact description of a tree, independent of qshare's own walker.
 */
export function byteSnapshot(root: Buffer | string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: Buffer, rel: string) => {
    for (const name of readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare)) {
      const p = Buffer.concat([dir, Buffer.from('/'), name]);
      const r = `${rel}/${name.toString('hex')}`;
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(p, { encoding: 'buffer' }).toString('hex')}`;
      else if (st.isDirectory()) {
        out[r] = 'dir';
        walk(p, r);
      } else out[r] = `file ${st.size} ${createHash('sha1').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(Buffer.from(root), '');
  return out;
}

const b = (s: string) => Buffer.from(s, 'latin1');
/** names that break naive code: a newline, quotes, a backslash, a leading `-`, 255 bytes, bytes that are not UTF-8 */
export const AWKWARD: Array<[string, Buffer]> = [
  ['newline', Buffer.from('line one\nline two.txt')],
  ['quotes', Buffer.from(`it's "quoted".txt`)],
  ['backslashes', Buffer.from('back\\slash\\x.txt')],
  ['leading dash', Buffer.from('-rf')],
  ['255 bytes', Buffer.from('n'.repeat(251) + '.txt')],
  ['255 bytes of UTF-8', Buffer.from('é'.repeat(127) + 'x')],
  ['latin-1 bytes (not UTF-8)', b('caf\xe9 cr\xe8me.txt')],
  ['a lone continuation byte', b('x\x80y')],
];

export function makeAwkwardNames(root: string, withBadUtf8: boolean): void {
  const rootB = Buffer.from(root);
  mkdirSync(Buffer.concat([rootB, Buffer.from('/-sdel')]));
  writeFileSync(Buffer.concat([rootB, Buffer.from('/-sdel/still here.txt')]), 'not deleted\n');
  for (const [i, [what, name]] of AWKWARD.entries()) {
    if (!withBadUtf8 && !Buffer.from(name.toString('utf8')).equals(name)) continue;
    writeFileSync(Buffer.concat([rootB, Buffer.from('/'), name]), `${what} ${i}\n`);
  }
  if (withBadUtf8) {
    const dirB = Buffer.concat([rootB, Buffer.from('/'), b('dossier \xe9t\xe9')]);
    mkdirSync(dirB);
    writeFileSync(Buffer.concat([dirB, Buffer.from('/inside.txt')]), pseudoRandom(5000, 4));
  }
}
