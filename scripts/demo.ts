/**
 * `npm run demo`: serves PaddleOCR's text-orientation classifier with cluster serving
 * (Redis, a worker, the HTTP frontend), sends the sample text lines in demo/images (upright
 * and upside down) through the TypeScript client and through HTTP, and prints each predicted
 * orientation. The service keeps running afterwards; the last lines say how to try it and
 * how to stop it.
 *
 * Options: --redis-port <n> (6379), --http-port <n> (10020). Exit code 0 when every sample is
 * classified right, 1 otherwise.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { InputQueue } from '../src/client/index.js';
import {
  classifierPath,
  classify,
  clusterServingHome,
  demoConfig,
  expectedLabel,
  IMAGES_DIR,
  JOB,
  ROOT,
  row,
  runCli,
  runningDemo,
  type Classified,
} from './demo-support.js';

interface Sample {
  readonly file: string;
  readonly base64: string;
}

async function loadSamples(): Promise<Sample[]> {
  const files = (await readdir(IMAGES_DIR)).filter((f) => f.endsWith('.jpg')).sort();
  return Promise.all(
    files.map(async (file) => ({
      file,
      base64: (await readFile(join(IMAGES_DIR, file))).toString('base64'),
    })),
  );
}

/** Through the TypeScript client: one request per image, all in flight at once (the worker batches them). */
async function viaClient(samples: readonly Sample[], redisPort: number): Promise<Classified[]> {
  const queue = new InputQueue({ redisUrl: `redis://localhost:${redisPort}`, name: JOB, timeoutMs: 30_000 });
  try {
    const results = await Promise.all(
      samples.map((s) => queue.predict({ x: { data: [s.base64], shape: [1], type: 'BYTES' } })),
    );
    return results.map((result) => {
      if (result.kind !== 'tensors') throw new Error(`expected a tensor, got ${result.kind}`);
      const [output] = Object.values(result.outputs);
      return classify(Array.from(output?.data as Float32Array));
    });
  } finally {
    await queue.close();
  }
}

/** Through HTTP: one BigDL `/predict` request holding every image as an instance. */
async function viaHttp(samples: readonly Sample[], httpPort: number): Promise<Classified[]> {
  const body = JSON.stringify({ instances: samples.map((s) => ({ x: s.base64 })) });
  const response = await fetch(`http://127.0.0.1:${httpPort}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const answer = (await response.json()) as { predictions?: string[]; error?: string };
  if (!response.ok || answer.predictions === undefined) {
    throw new Error(`/predict answered ${response.status}: ${answer.error ?? 'no predictions'}`);
  }
  return answer.predictions.map((element) => {
    const value = JSON.parse((JSON.parse(element) as { value: string }).value) as { data: number[] };
    return classify(value.data);
  });
}

function report(
  samples: readonly Sample[],
  client: readonly Classified[],
  http: readonly Classified[],
): boolean {
  const widths = [20, 10, 22, 22];
  const shown = (c: Classified | undefined): string =>
    c === undefined ? '?' : `${c.label} (p=${c.probability.toFixed(4)})`;
  process.stdout.write(`\n${row(['image', 'expected', 'TypeScript client', 'HTTP /predict'], widths)}\n`);
  let allRight = true;
  samples.forEach((sample, i) => {
    const expected = expectedLabel(sample.file);
    const right = client[i]?.label === expected && http[i]?.label === expected;
    allRight &&= right;
    const cells = [sample.file, expected, shown(client[i]), shown(http[i])];
    process.stdout.write(`${row(cells, widths)}  ${right ? 'ok' : 'WRONG'}\n`);
  });
  const count = samples.length;
  process.stdout.write(
    allRight
      ? `\nAll ${count} images classified right, upright and upside down, both ways.\n`
      : `\nSome of the ${count} images were classified wrong.\n`,
  );
  return allRight;
}

function closingLines(httpPort: number, dashboard: string | undefined): string {
  const sample =
    relative(process.cwd(), join(IMAGES_DIR, 'total-180.jpg')) || join(IMAGES_DIR, 'total-180.jpg');
  const home = process.env['CLUSTER_SERVING_HOME'];
  const prefix = home === undefined ? '' : `CLUSTER_SERVING_HOME=${home} `;
  return [
    '',
    `The service keeps running (job ${JOB}, HTTP on http://127.0.0.1:${httpPort}). Try it:`,
    `  curl -s http://127.0.0.1:${httpPort}/predict -H 'content-type: application/json' \\`,
    `    -d "{\\"instances\\":[{\\"x\\":\\"$(base64 -w0 ${sample})\\"}]}"`,
    'See it:',
    `  ${prefix}npx cluster-serving list`,
    ...(dashboard === undefined ? [] : [`  ${dashboard}   (the dashboard, in a browser)`]),
    'Stop everything it started:',
    `  ${prefix}npx cluster-serving shutdown`,
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'redis-port': { type: 'string', default: '6379' },
      'http-port': { type: 'string', default: '10020' },
    },
  });
  const redisPort = Number(values['redis-port']);
  const httpPort = Number(values['http-port']);

  const dir = join(clusterServingHome(), 'demo');
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, 'config.yaml');
  await writeFile(configPath, demoConfig(classifierPath(), redisPort, httpPort));
  process.stdout.write(`Config for the PaddleOCR text-orientation classifier: ${configPath}\n`);

  let dashboard: string | undefined;
  const earlier = await runningDemo();
  if (earlier !== undefined) {
    process.stdout.write(`Job ${JOB} is already running from an earlier demo; using it.\n`);
    dashboard = earlier.dashboard;
  } else {
    const started = await runCli(['start', '-c', configPath]);
    if (started.code !== 0) return started.code;
    dashboard = /^\s*dashboard:\s*(https?:\/\/\S+)/m.exec(started.stdout)?.[1];
  }

  const samples = await loadSamples();
  process.stdout.write(
    `\nSending ${samples.length} text-line images from ${relative(ROOT, IMAGES_DIR)}/ ...\n`,
  );
  const client = await viaClient(samples, redisPort);
  const http = await viaHttp(samples, httpPort);
  const allRight = report(samples, client, http);
  process.stdout.write(closingLines(httpPort, dashboard));
  return allRight ? 0 : 1;
}

process.exitCode = await main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
});
