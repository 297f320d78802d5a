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
