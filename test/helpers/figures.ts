/**
 * Prints a measured figure (claim time, failover gap, ...) as one `[figures]` line on the
 * test run's output, where CI logs and reviewers read it. Figures are printed, never asserted.
 */
export function printFigure(line: string): void {
  process.stdout.write(`[figures] ${line}\n`);
}
