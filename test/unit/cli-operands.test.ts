import { describe, expect, it } from 'vitest';
import { operandsAfterDoubleDash } from '../../src/cli/operands.js';

describe('operandsAfterDoubleDash', () => {
  it.each([
    [['add', '--', '-sdel'], ['add', './-sdel']],
    [['add', '--no-seed', '--json', '--', '-sdel'], ['add', '--no-seed', '--json', './-sdel']],
    [['add', '--', '/abs/-x'], ['add', '/abs/-x']],
    [['add', '--', 'plain'], ['add', 'plain']],
    [['get', '--', '--weird.torrent'], ['get', './--weird.torrent']],
    [['watch', '--', '-drop'], ['watch', './-drop']],
    [['add', '-sdel'], ['add', '-sdel']],
    [['show', '--', '-name'], ['show', '--', '-name']],
    [['add', '--', '-a', '--'], ['add', './-a', './--']],
  ])('%j → %j', (input, out) => {
    expect(operandsAfterDoubleDash(input)).toEqual(out);
  });
});
