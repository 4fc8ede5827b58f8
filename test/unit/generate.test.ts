import { describe, expect, it } from 'vitest';
import { checkShareName, generateName, generatePassword, passwordEntropyBits } from '../../src/secrets/generate.js';

describe('generatePassword', () => {
  it('has at least 128 bits of entropy', () => {
    expect(passwordEntropyBits()).toBeGreaterThanOrEqual(128);
  });
  it('is twelve lowercase words joined by hyphens, different every time', () => {
    const a = generatePassword();
    const b = generatePassword();
    expect(a).toMatch(/^[a-z]+(-[a-z]+){11}$/);
    expect(a).not.toBe(b);
  });
  it('draws every word from the picker it is given', () => {
    let i = 0;
    const picks: number[] = [];
    const pw = generatePassword((n) => {
      expect(n).toBe(2048);
      picks.push(i);
      return i++;
    });
    expect(picks).toHaveLength(12);
    expect(pw.split('-')[0]).toBe('abandon');
    expect(pw.split('-')[1]).toBe('ability');
  });
});

describe('generateName', () => {
  it('is adjective-animal-word, lowercase, file-name safe', () => {
    for (let i = 0; i < 200; i++) {
      const n = generateName();
      expect(n).toMatch(/^[a-z]+-[a-z]+-[a-z]+$/);
      expect(checkShareName(n)).toBeUndefined();
    }
  });
});

describe('checkShareName', () => {
  it.each([
    ['wedding-2026', undefined],
    ['a', undefined],
    ['', 'must be 1 to 100 characters'],
    ['x'.repeat(101), 'must be 1 to 100 characters'],
    ['-sdel', 'may contain only letters, digits, ".", "_" and "-", and must start with a letter or digit'],
    ['.hidden', 'may contain only letters, digits, ".", "_" and "-", and must start with a letter or digit'],
    ['a/b', 'may contain only letters, digits, ".", "_" and "-", and must start with a letter or digit'],
    ['photos.7z', 'give it without an extension'],
  ])('%j → %j', (name, problem) => {
    expect(checkShareName(name)).toBe(problem);
  });
});
