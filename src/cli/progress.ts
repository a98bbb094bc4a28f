import type { Progress } from '../supervisor/protocol.js';

/** Shows start/stop steps as they happen: one rewritten line on a terminal, plain lines when piped. */
export interface ProgressView {
  step(progress: Progress): void;
  /** Ends the live line (if any) so later output starts on a fresh line. */
  done(ok: boolean): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createProgress(stream: NodeJS.WriteStream = process.stderr): ProgressView {
  if (stream.isTTY !== true) {
    return {
      step: (progress) => stream.write(`${progress.step}: ${progress.message}\n`),
      done: () => undefined,
    };
  }
  let current = '';
  let frame = 0;
  const draw = (): void => {
    stream.write(`\r\x1b[K${FRAMES[frame % FRAMES.length] ?? '-'} ${current}`);
  };
  const timer = setInterval(() => {
    frame += 1;
    if (current !== '') draw();
  }, 80);
  timer.unref();
  return {
    step(progress): void {
      // A new step means the previous one is behind us: it stays on screen, ticked.
      if (current !== '') stream.write(`\r\x1b[K✔ ${current}\n`);
      current = progress.message;
      draw();
    },
    done(ok): void {
      clearInterval(timer);
      if (current !== '') stream.write(`\r\x1b[K${ok ? '✔' : '✖'} ${current}\n`);
      current = '';
    },
  };
}
