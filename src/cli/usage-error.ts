/**
 * A command line that does not fit the command table (parse.ts says what is wrong); run.ts prints it with a pointer
 * to the help of `command` (or the top-level help) and exits 2.
 */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}
