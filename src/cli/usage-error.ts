/** A command line yargs refused (its message); run.ts prints it with a pointer to --help and exits 2. */
export class UsageError extends Error {}
