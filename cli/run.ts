import { parseArgs, type ParseArgsConfig } from 'node:util';

/** The command line parsed by `options`; on a bad option, the reason and the usage on stderr, and null. */
export function parseCommandLine<const T extends NonNullable<ParseArgsConfig['options']>>(options: T, usage: string) {
  try {
    return parseArgs({ options, allowPositionals: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return null;
  }
}

/**
 * How every command-line entry point ends: its exit code, or one line naming
 * the command and what went wrong. Operators run these in scripts; a stack
 * trace tells them nothing a one-line cause does not.
 */
export function runCli(command: string, main: () => Promise<number>): void {
  // `npm run search … | head` closes the pipe early; that is the reader's choice, not a failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
  });
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`${command} failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
