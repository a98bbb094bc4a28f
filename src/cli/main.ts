/** Placeholder entry until the CLI lands; replaced by the commander program. */
export async function main(argv: string[], _invokedAs: string): Promise<void> {
  process.stderr.write(`cluster-serving: command not available yet: ${argv.join(' ')}\n`);
  process.exitCode = 2;
}
