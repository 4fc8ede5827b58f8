/**
 * Reads an ordinary command line (`add ./photos --no-seed --json`) straight from the command table (spec.ts),
 * without yargs. Pure. It takes only what it is certain yargs reads the same way, and returns undefined for
 * anything else — help, version, completion requests, short options, unknown or repeated options, a missing or
 * extra operand, `--flag true`, a value that starts with `-` — which then goes to yargs, so every error message and
 * every unusual form is still yargs' (test/unit/cli-fast-parse.test.ts compares the two on a table of command lines).
 */
import { COMMANDS, GLOBAL_OPTIONS, type CommandSpec, type OptionSpec, type ParsedCommand, type ParsedValue } from './spec.js';

const NUMBER = /^(0|[1-9][0-9]{0,14})(\.[0-9]{1,6})?$/;

export function fastParse(words: readonly string[], commands: readonly CommandSpec[] = COMMANDS): ParsedCommand | undefined {
  const spec = commands.find((c) => c.name === words[0]);
  if (!spec) return undefined;
  const options = new Map<string, OptionSpec>([...GLOBAL_OPTIONS, ...spec.options].map((o) => [o.name, o]));
  const given = new Map<string, ParsedValue>();
  let operand: string | undefined;

  for (let i = 1; i < words.length; i++) {
    const w = words[i] as string;
    if (w === '' || w === '--') return undefined;
    if (!w.startsWith('--')) {
      if (w.startsWith('-') || !spec.operand || operand !== undefined) return undefined;
      operand = w;
      continue;
    }
    const eq = w.indexOf('=');
    const name = eq < 0 ? w.slice(2) : w.slice(2, eq);
    const inline = eq < 0 ? undefined : w.slice(eq + 1);
    const negated = inline === undefined && name.startsWith('no-') ? options.get(name.slice(3)) : undefined;
    const o = negated?.type === 'boolean' ? negated : options.get(name);
    if (!o || (given.has(o.name) && !o.array)) return undefined;

    if (o.type === 'boolean') {
      const next = words[i + 1];
      if (inline !== undefined || next === 'true' || next === 'false') return undefined;
      given.set(o.name, o !== negated);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      value = words[i + 1];
      i++;
    }
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    // yargs lets an array option take every following word that is not an option
    if (o.array && words[i + 1] !== undefined && !(words[i + 1] as string).startsWith('-')) return undefined;
    if (o.type === 'number') {
      if (!NUMBER.test(value)) return undefined;
      given.set(o.name, Number(value));
    } else if (o.array) {
      given.set(o.name, [...((given.get(o.name) as string[] | undefined) ?? []), value]);
    } else {
      given.set(o.name, value);
    }
  }

  if (spec.operand) {
    if (operand === undefined && spec.operand.required) return undefined;
    if (operand !== undefined && spec.operand.choices && !spec.operand.choices.includes(operand)) return undefined;
  }
  const args: Record<string, ParsedValue> = {};
  for (const o of options.values()) args[o.name] = given.has(o.name) ? given.get(o.name) : o.default;
  if (spec.operand) args[spec.operand.name] = operand;
  return { command: spec.name, args };
}
