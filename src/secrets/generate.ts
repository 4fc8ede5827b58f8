import { randomInt } from 'node:crypto';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { adjectives, animals } from 'unique-names-generator';

/**
 * Archive passwords: 12 words from the BIP-39 English list (2048 words, every word identified by its first four
 * letters, no look-alikes), drawn with crypto.randomInt: 12 × 11 = 132 bits. Words are easy to read aloud and type
 * on a phone; 7-Zip accepts them as they are.
 */
export const PASSWORD_WORDS = 12;

export function passwordEntropyBits(words = PASSWORD_WORDS, listSize = wordlist.length): number {
  return words * Math.log2(listSize);
}

export function generatePassword(pick: (n: number) => number = randomInt, words = PASSWORD_WORDS): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(wordlist[pick(wordlist.length)]!);
  return out.join('-');
}

const nameAdjectives = adjectives.filter((w) => /^[a-z]{3,9}$/.test(w));
const nameAnimals = animals.filter((w) => /^[a-z]{3,10}$/.test(w));
const nameNouns = wordlist.filter((w) => w.length >= 4);

/**
 * A meaningless share name like `burly-duckbill-aviation`: adjective-animal-word. Not a secret (it is public in the
 * torrent); it only must not reveal anything about the folder.
 */
export function generateName(pick: (n: number) => number = randomInt): string {
  return [
    nameAdjectives[pick(nameAdjectives.length)],
    nameAnimals[pick(nameAnimals.length)],
    nameNouns[pick(nameNouns.length)],
  ].join('-');
}

/** A name the user chose with --name: safe as a file name on every OS, and not hidden. */
export function checkShareName(name: string): string | undefined {
  if (name.length === 0 || name.length > 100) return 'must be 1 to 100 characters';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    return 'may contain only letters, digits, ".", "_" and "-", and must start with a letter or digit';
  if (/\.(7z|torrent)$/i.test(name)) return 'give it without an extension';
  return undefined;
}
