/**
 * Writes the demo's sample text-line images into demo/images/: each line rendered upright
 * and turned 180°, as small JPEGs. The images are committed; run this only to change them:
 *   npx tsx scripts/make-demo-images.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';

interface Line {
  readonly name: string;
  readonly text: string;
  readonly font: string;
  readonly size: number;
}

const LINES: readonly Line[] = [
  { name: 'invoice', text: 'Invoice No. 2024-0117', font: 'DejaVu Sans', size: 30 },
  { name: 'address', text: '42 Harbour Road, Springfield', font: 'DejaVu Serif', size: 28 },
  { name: 'total', text: 'Total: 318.40 EUR', font: 'DejaVu Sans Mono', size: 32 },
  { name: 'notice', text: 'Please keep this receipt', font: 'DejaVu Sans', size: 26 },
  { name: 'short', text: 'Serving', font: 'DejaVu Serif', size: 34 },
];

const OUT_DIR = resolve(import.meta.dirname, '../demo/images');

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Black text on a slightly warm white background, padded a little like a detected text box. */
function svgOf(line: Line): Buffer {
  const width = Math.ceil(line.text.length * line.size * 0.62) + 24;
  const height = Math.ceil(line.size * 1.5);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="100%" height="100%" fill="#f7f5f0"/>` +
    `<text x="12" y="${Math.round(line.size * 1.1)}" font-family="${line.font}" font-size="${line.size}" fill="#1a1a1a">` +
    `${escapeXml(line.text)}</text></svg>`;
  return Buffer.from(svg);
}

async function main(): Promise<void> {
  await mkdir(OUT_DIR, { recursive: true });
  for (const line of LINES) {
    const upright = await sharp(svgOf(line))
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 85 })
      .toBuffer();
    const rotated = await sharp(upright).rotate(180).jpeg({ quality: 85 }).toBuffer();
    await writeFile(join(OUT_DIR, `${line.name}-0.jpg`), upright);
    await writeFile(join(OUT_DIR, `${line.name}-180.jpg`), rotated);
    process.stdout.write(`${line.name}: ${upright.length} + ${rotated.length} bytes\n`);
  }
}

await main();
