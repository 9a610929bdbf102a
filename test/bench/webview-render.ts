// Benchmark: how the chat webview's streaming markdown scales with answer size, per block shape.
//
// In a real headless chromium with the real bundle under the real CSP, streams answers of
// 25, 50, 100 and 200 KB of four shapes (one long table, one long tight list, one long code
// fence, and a mixed answer holding a table of up to 40 KB, a long list and a long fence
// between paragraphs: test/bench/markdown-shapes.ts) in ~51-character chunks. Every chunk is
// delivered as a host `textDelta` message, rendered synchronously (no per-frame coalescing:
// the worst case), and followed by a forced style + layout, the layout the frame that shows
// the chunk would pay. Linear work means total time doubles when the size doubles (growth
// exponent 1); re-rendering the open block on every chunk gives an exponent near 2.
//
// Run: node esbuild.mjs && node out/test/bench/webview-render.js
import { chromium, type CDPSession, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../ui/helpers';
import { startFixtureServer } from '../ui/fixture';
import { SHAPES, shapeMarkdown, tableMarkdown, type Shape } from './markdown-shapes';

export { sampleMarkdown } from './markdown-shapes';

export interface SizeFigures {
  readonly sizeKB: number;
  readonly chunks: number;
  /** Sum of the chunks' times (render + layout), median of runs. */
  readonly totalMs: number;
  /** The slowest chunk of the median run. */
  readonly maxChunkMs: number;
  readonly p99ChunkMs: number;
  /** Mean cost of a chunk in the first and the last 10% of the stream. */
  readonly earlyChunkMs: number;
  readonly lateChunkMs: number;
  /** Chromium's own accounting for the run (CDP Performance.getMetrics deltas). */
  readonly scriptMs: number;
  readonly layoutMs: number;
  readonly styleMs: number;
}

export interface ShapeFigures {
  readonly shape: Shape;
  readonly sizes: readonly SizeFigures[];
  /** Least-squares slope of log(total) over log(size): 1 when linear, 2 when quadratic. */
  readonly exponent: number;
}

export interface BenchFigures {
  readonly chunkChars: number;
  readonly runs: number;
  readonly shapes: readonly ShapeFigures[];
  /** A 40 KB table streamed: total render time, slowest chunk, and the same table rendered at once. */
  readonly table40: { totalMs: number; maxChunkMs: number; chunks: number; oneShotMs: number };
}

function chunk(text: string, count: number): string[] {
  const size = Math.ceil(text.length / count);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

async function metrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics: list }: { metrics: { name: string; value: number }[] } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

interface RunResult {
  totalMs: number;
  times: number[];
  scriptMs: number;
  layoutMs: number;
  styleMs: number;
}

async function openStreamingItem(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('body[data-onbehalf="loaded"]');
  await page.evaluate(() => {
    const g = globalThis as unknown as { postMessage(d: unknown, o: string): void };
    g.postMessage(
      {
        type: 'state',
        state: {
          identityLabel: 'bench@example.com',
          modelLabel: 'bench',
          sandboxModel: true,
          busy: true,
          blocker: null,
          conversations: [{ id: 'c', title: 'Bench', updatedAt: 1 }],
          activeConversationId: 'c',
          items: [
            { kind: 'user', id: 'u', text: 'Write a long report.' },
            { kind: 'assistant', id: 'a', markdown: '', streaming: true },
          ],
          usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, estimatedCostUsd: 0 },
        },
      },
      '*',
    );
  });
  await page.waitForSelector('.msg-assistant');
}

async function runOnce(page: Page, cdp: CDPSession, url: string, markdown: string, chunks: string[]): Promise<RunResult> {
  await openStreamingItem(page, url);
  const before = await metrics(cdp);
  const result = await page.evaluate((parts) => {
    const g = globalThis as unknown as {
      dispatchEvent(e: unknown): boolean;
      MessageEvent: new (type: string, init: { data: unknown }) => unknown;
      Event: new (type: string) => unknown;
      performance: { now(): number };
      document: { querySelector(s: string): { scrollHeight: number } | null };
    };
    const scroller = g.document.querySelector('main.messages');
    const times: number[] = [];
    let total = 0;
    for (const text of parts) {
      const t0 = g.performance.now();
      // Exactly what a host message does, but synchronous, then render now (no coalescing),
      // then the style + layout the frame showing it would do.
      g.dispatchEvent(new g.MessageEvent('message', { data: { type: 'textDelta', itemId: 'a', text } }));
      g.dispatchEvent(new g.Event('onbehalf:flush'));
      void scroller?.scrollHeight;
      const dt = g.performance.now() - t0;
      times.push(dt);
      total += dt;
    }
    // End the stream (the last line completes, open blocks close): part of the render.
    const t0 = g.performance.now();
    g.dispatchEvent(new g.MessageEvent('message', { data: { type: 'busy', busy: false } }));
    void scroller?.scrollHeight;
    times.push(g.performance.now() - t0);
    return { totalMs: total + (times[times.length - 1] ?? 0), times };
  }, chunks);
  const after = await metrics(cdp);
  const ms = (name: string) => ((after[name] ?? 0) - (before[name] ?? 0)) * 1000;
  const rendered = await page.evaluate(() => {
    const d = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document;
    return (d.querySelector('.msg-assistant .markdown')?.textContent ?? '').length;
  });
  if (rendered < markdown.length * 0.5) throw new Error(`rendered text too short: ${rendered} of ${markdown.length}`);
  return { ...result, scriptMs: ms('ScriptDuration'), layoutMs: ms('LayoutDuration'), styleMs: ms('RecalcStyleDuration') };
}

/** The same answer delivered at once as a finished item (render + layout), for scale. */
async function oneShot(page: Page, url: string, markdown: string): Promise<number> {
  await openStreamingItem(page, url);
  return page.evaluate((md) => {
    const g = globalThis as unknown as {
      dispatchEvent(e: unknown): boolean;
      MessageEvent: new (type: string, init: { data: unknown }) => unknown;
      performance: { now(): number };
      document: { querySelector(s: string): { scrollHeight: number } | null };
    };
    const t0 = g.performance.now();
    g.dispatchEvent(new g.MessageEvent('message', { data: { type: 'item', item: { kind: 'assistant', id: 'b', markdown: md, streaming: false } } }));
    void g.document.querySelector('main.messages')?.scrollHeight;
    return g.performance.now() - t0;
  }, markdown);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

/** Least-squares slope of log(y) over log(x). */
function growthExponent(points: readonly { x: number; y: number }[]): number {
  const pts = points.filter((p) => p.x > 0 && p.y > 0).map((p) => ({ x: Math.log(p.x), y: Math.log(p.y) }));
  const mx = mean(pts.map((p) => p.x));
  const my = mean(pts.map((p) => p.y));
  const num = pts.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const den = pts.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return den ? num / den : NaN;
}

async function measure(page: Page, cdp: CDPSession, url: string, md: string, chunkChars: number, runs: number): Promise<SizeFigures & { median: RunResult }> {
  const parts = chunk(md, Math.ceil(md.length / chunkChars));
  const results: RunResult[] = [];
  for (let r = 0; r < runs; r++) results.push(await runOnce(page, cdp, url, md, parts));
  const mid = results.slice().sort((a, b) => a.totalMs - b.totalMs)[Math.floor(results.length / 2)] ?? results[0];
  if (!mid) throw new Error('no runs');
  const tenth = Math.max(1, Math.floor(parts.length / 10));
  const sorted = mid.times.slice().sort((a, b) => a - b);
  return {
    sizeKB: Math.round(md.length / 1024),
    chunks: parts.length,
    totalMs: mid.totalMs,
    maxChunkMs: sorted[sorted.length - 1] ?? 0,
    p99ChunkMs: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
    earlyChunkMs: mean(mid.times.slice(0, tenth)),
    lateChunkMs: mean(mid.times.slice(-tenth - 1, -1)),
    scriptMs: median(results.map((x) => x.scriptMs)),
    layoutMs: median(results.map((x) => x.layoutMs)),
    styleMs: median(results.map((x) => x.styleMs)),
    median: mid,
  };
}

export async function benchWebviewRender(opts: { runs?: number; sizesKB?: number[]; shapes?: readonly Shape[] } = {}): Promise<BenchFigures> {
  const runs = opts.runs ?? 3;
  const sizesKB = opts.sizesKB ?? [25, 50, 100, 200];
  const chunkChars = Math.ceil((100 * 1024) / 2000);
  const server = await startFixtureServer();
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ viewport: { width: 420, height: 900 }, reducedMotion: 'reduce' });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const url = server.pageUrl('dark');
    // Warm-up (JIT, fonts).
    await measure(page, cdp, url, shapeMarkdown('mixed', 25 * 1024), chunkChars, 1);
    const shapes: ShapeFigures[] = [];
    for (const shape of opts.shapes ?? SHAPES) {
      const sizes: SizeFigures[] = [];
      for (const kb of sizesKB) {
        const { median: _ignored, ...figures } = await measure(page, cdp, url, shapeMarkdown(shape, kb * 1024), chunkChars, runs);
        sizes.push(figures);
      }
      shapes.push({ shape, sizes, exponent: growthExponent(sizes.map((s) => ({ x: s.sizeKB, y: s.totalMs }))) });
    }
    const table = tableMarkdown(40 * 1024);
    const t40 = await measure(page, cdp, url, table, chunkChars, runs);
    const oneShots: number[] = [];
    for (let r = 0; r < runs; r++) oneShots.push(await oneShot(page, url, table));
    await context.close();
    return { chunkChars, runs, shapes, table40: { totalMs: t40.totalMs, maxChunkMs: t40.maxChunkMs, chunks: t40.chunks, oneShotMs: median(oneShots) } };
  } finally {
    await browser.close().catch(() => undefined);
    await server.close();
  }
}

export function printWebviewRender(f: BenchFigures): void {
  const fx = (n: number, d = 2) => n.toFixed(d);
  console.log(
    `measured: real chromium, real bundle and CSP; each shape streamed in ~${f.chunkChars}-char chunks, every chunk rendered synchronously ` +
      `(no per-frame coalescing) and followed by a forced style + layout; figures from the median of ${f.runs} runs by total time`,
  );
  console.log('shape  size    chunks  total ms  max chunk ms  p99 ms  early/late chunk ms  script ms  layout ms  style ms');
  for (const s of f.shapes) {
    for (const z of s.sizes) {
      console.log(
        `${s.shape.padEnd(5)}  ${String(z.sizeKB).padStart(3)} KB  ${String(z.chunks).padStart(6)}  ${fx(z.totalMs, 0).padStart(8)}  ${fx(z.maxChunkMs).padStart(12)}  ` +
          `${fx(z.p99ChunkMs).padStart(6)}  ${`${fx(z.earlyChunkMs, 3)} / ${fx(z.lateChunkMs, 3)}`.padStart(19)}  ${fx(z.scriptMs, 0).padStart(9)}  ` +
          `${fx(z.layoutMs, 0).padStart(9)}  ${fx(z.styleMs, 0).padStart(8)}`,
      );
    }
  }
  for (const s of f.shapes) {
    const max = Math.max(...s.sizes.map((z) => z.maxChunkMs));
    console.log(
      `${s.shape}: growth exponent ${fx(s.exponent)} (slope of log total time over log size, 25-200 KB; 1 = linear, 2 = quadratic); slowest chunk ${fx(max)} ms`,
    );
  }
  const t = f.table40;
  console.log(
    `40 KB table: streamed in ${fx(t.totalMs, 0)} ms of render time (${t.chunks} chunks, slowest ${fx(t.maxChunkMs)} ms); rendered at once: ${fx(t.oneShotMs, 0)} ms`,
  );
}

if (require.main === module) {
  benchWebviewRender()
    .then(printWebviewRender)
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
