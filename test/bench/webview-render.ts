// Benchmark: how the chat webview's streaming markdown scales with answer size, per block shape.
//
// In a real headless chromium with the real bundle under the real CSP, streams answers of
// 25, 50, 100 and 200 KB of four shapes (one long table, one long tight list, one long code
// fence, and a mixed answer holding a table of up to 40 KB, a long list and a long fence
// between paragraphs: test/bench/markdown-shapes.ts) in ~51-character chunks. Every chunk is
// delivered as a host `textDelta` message, rendered synchronously (no per-frame coalescing:
// the worst case), and followed by a forced style + layout, the layout the frame that shows
// the chunk would pay. A flush is the chunk's render plus that layout. Linear work means total
// time doubles when the size doubles (growth exponent 1); re-rendering or re-laying out the
// open block on every chunk gives an exponent near 2.
//
// Run: node esbuild.mjs && node out/test/bench/webview-render.js
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../ui/helpers';
import { startFixtureServer } from '../ui/fixture';
import { SHAPES, shapeMarkdown, tableMarkdown, type Shape } from './markdown-shapes';

export { sampleMarkdown } from './markdown-shapes';

export interface SizeFigures {
  readonly sizeKB: number;
  readonly chunks: number;
  /** Main-thread CPU time rendering the chunks (Chrome trace), summed, and the slowest chunk. */
  readonly renderMs: number;
  readonly maxRenderMs: number;
  /** Which chunk was the slowest (0 = the first; chunks + 0 = the end of the stream). */
  readonly slowestAt: number;
  readonly p99RenderMs: number;
  /** CPU time of the style + layout after each chunk (what the frame showing it pays), summed, and the slowest. */
  readonly layoutMs: number;
  readonly maxLayoutMs: number;
  /** The slowest flush: one chunk's render plus the layout after it, and which chunk. */
  readonly maxFlushMs: number;
  readonly slowestFlushAt: number;
  /** Garbage collection inside that slowest flush, and the slowest flush once its collections are taken out. */
  readonly slowestFlushGcMs: number;
  readonly maxFlushLessGcMs: number;
  /** Render CPU per chunk in the first and the last 10% of the stream. */
  readonly earlyRenderMs: number;
  readonly lateRenderMs: number;
  /** Wall time of the whole loop (render + forced layout), for scale on a busy machine. */
  readonly wallMs: number;
}

export interface ShapeFigures {
  readonly shape: Shape;
  readonly sizes: readonly SizeFigures[];
  /** Least-squares slope of log(render CPU) over log(size): 1 when linear, 2 when quadratic. */
  readonly renderExponent: number;
  /** The same for render + layout: what the user's frames pay. */
  readonly frameExponent: number;
}

export interface BenchFigures {
  readonly chunkChars: number;
  readonly runs: number;
  readonly shapes: readonly ShapeFigures[];
  /** A 40 KB table streamed: render CPU, render + layout CPU, slowest chunk, and the table rendered at once (wall). */
  readonly table40: { renderMs: number; frameMs: number; maxRenderMs: number; maxFlushMs: number; chunks: number; oneShotMs: number };
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
  /** Main-thread CPU time per chunk (Chrome trace `tdur`): rendering, and the style + layout after it. */
  renderCpu: number[];
  layoutCpu: number[];
  /** Garbage collection inside each flush (already part of its render or layout time). */
  gcCpu: number[];
}

interface TraceEvent {
  name: string;
  ts: number;
  tts?: number;
  /** A complete event's (ph 'X') wall duration, µs. */
  dur?: number;
}

/** V8's collections on the main thread: MinorGC, MajorGC and its phases (V8.GC*, some nested, some on their own). */
const isCollection = (name: string) => name === 'MinorGC' || name === 'MajorGC' || name.startsWith('V8.GC');

/**
 * Main-thread CPU times from the trace: the page marks (User Timing) each chunk's start and
 * the end of its rendering, and both ends of the layout after it; each mark carries the
 * thread's CPU clock (`tts`), so time the thread spent descheduled on a busy machine is not counted.
 */
function perChunkCpu(events: TraceEvent[], chunks: number): { renderCpu: number[]; layoutCpu: number[]; gcCpu: number[] } {
  const pairs = (open: string, close: string): number[] => {
    const marks = events.filter((e) => e.name === open || e.name === close).sort((a, b) => a.ts - b.ts);
    const out: number[] = [];
    for (let i = 0; i + 1 < marks.length; i += 2) {
      const [a, b] = [marks[i], marks[i + 1]];
      if (a?.name !== open || b?.name !== close || a.tts === undefined || b.tts === undefined) throw new Error('trace marks out of order');
      out.push((b.tts - a.tts) / 1000);
    }
    return out;
  };
  const renderCpu = pairs('ob-r', 'ob-f');
  const layoutCpu = pairs('ob-l0', 'ob-l1');
  if (renderCpu.length !== chunks + 1 || layoutCpu.length !== chunks + 1) {
    throw new Error(`trace has ${renderCpu.length} marked chunks and ${layoutCpu.length} layouts for ${chunks} chunks + the end`);
  }
  // Garbage collection that ran inside each flush (its start mark to the end of its layout).
  const starts = events.filter((e) => e.name === 'ob-r').sort((a, b) => a.ts - b.ts);
  const ends = events.filter((e) => e.name === 'ob-l1').sort((a, b) => a.ts - b.ts);
  const collections = mergedIntervals(events.filter((e) => isCollection(e.name) && e.dur !== undefined).map((e) => [e.ts, e.ts + (e.dur ?? 0)] as const));
  const gcCpu = starts.map((start, i) => {
    const end = ends[i]?.ts ?? start.ts;
    return sumOf(collections.map(([from, to]) => Math.max(0, Math.min(to, end) - Math.max(from, start.ts)) / 1000));
  });
  return { renderCpu, layoutCpu, gcCpu };
}

const sumOf = (xs: number[]) => xs.reduce((x, y) => x + y, 0);

/** Overlapping intervals joined, so a phase inside its collection is not counted twice. */
function mergedIntervals(intervals: (readonly [number, number])[]): [number, number][] {
  const merged: [number, number][] = [];
  for (const [from, to] of [...intervals].sort((a, b) => a[0] - b[0])) {
    const last = merged.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else merged.push([from, to]);
  }
  return merged;
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

async function runOnce(browser: Browser, page: Page, cdp: CDPSession, url: string, markdown: string, chunks: string[]): Promise<RunResult> {
  await openStreamingItem(page, url);
  await browser.startTracing(page, { categories: ['blink.user_timing', 'v8'] });
  const before = await metrics(cdp);
  const result = await page.evaluate(
    ({ parts }) => {
      const g = globalThis as unknown as {
        dispatchEvent(e: unknown): boolean;
        MessageEvent: new (type: string, init: { data: unknown }) => unknown;
        Event: new (type: string) => unknown;
        performance: { now(): number; mark(name: string): void; clearMarks(): void };
        document: { querySelector(s: string): { scrollHeight: number } | null };
      };
      const scroller = g.document.querySelector('main.messages');
      const times: number[] = [];
      let total = 0;
      const layout = () => {
        g.performance.mark('ob-l0');
        void scroller?.scrollHeight;
        g.performance.mark('ob-l1');
      };
      parts.forEach((text) => {
        g.performance.mark('ob-r');
        const t0 = g.performance.now();
        // Exactly what a host message does, but synchronous, then render now (no coalescing).
        g.dispatchEvent(new g.MessageEvent('message', { data: { type: 'textDelta', itemId: 'a', text } }));
        g.dispatchEvent(new g.Event('onbehalf:flush'));
        g.performance.mark('ob-f');
        const dt = g.performance.now() - t0;
        times.push(dt);
        total += dt;
        // The style + layout the frame showing the chunk pays.
        layout();
        g.performance.clearMarks();
      });
      // End the stream (the last line completes, open blocks close): part of the render.
      g.performance.mark('ob-r');
      const t0 = g.performance.now();
      g.dispatchEvent(new g.MessageEvent('message', { data: { type: 'busy', busy: false } }));
      g.performance.mark('ob-f');
      times.push(g.performance.now() - t0);
      layout();
      g.performance.clearMarks();
      return { totalMs: total + (times[times.length - 1] ?? 0), times };
    },
    { parts: chunks },
  );
  const after = await metrics(cdp);
  const trace = JSON.parse((await browser.stopTracing()).toString()) as { traceEvents: TraceEvent[] };
  const cpu = perChunkCpu(trace.traceEvents, chunks.length);
  const ms = (name: string) => ((after[name] ?? 0) - (before[name] ?? 0)) * 1000;
  const rendered = await page.evaluate(() => {
    const d = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document;
    return (d.querySelector('.msg-assistant .markdown')?.textContent ?? '').length;
  });
  if (rendered < markdown.length * 0.5) throw new Error(`rendered text too short: ${rendered} of ${markdown.length}`);
  return { ...result, ...cpu, scriptMs: ms('ScriptDuration'), layoutMs: ms('LayoutDuration'), styleMs: ms('RecalcStyleDuration') };
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

const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);

async function measure(browser: Browser, page: Page, cdp: CDPSession, url: string, md: string, chunkChars: number, runs: number): Promise<SizeFigures> {
  const parts = chunk(md, Math.ceil(md.length / chunkChars));
  const results: RunResult[] = [];
  for (let r = 0; r < runs; r++) results.push(await runOnce(browser, page, cdp, url, md, parts));
  const mid = results.slice().sort((a, b) => sum(a.renderCpu) - sum(b.renderCpu))[Math.floor(results.length / 2)] ?? results[0];
  if (!mid) throw new Error('no runs');
  const tenth = Math.max(1, Math.floor(parts.length / 10));
  const sorted = mid.renderCpu.slice().sort((a, b) => a - b);
  const flushes = mid.renderCpu.map((ms, i) => ms + (mid.layoutCpu[i] ?? 0));
  const maxFlushMs = Math.max(...flushes);
  return {
    sizeKB: Math.round(md.length / 1024),
    chunks: parts.length,
    renderMs: sum(mid.renderCpu),
    maxRenderMs: sorted[sorted.length - 1] ?? 0,
    slowestAt: mid.renderCpu.indexOf(sorted[sorted.length - 1] ?? 0),
    p99RenderMs: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
    layoutMs: sum(mid.layoutCpu),
    maxLayoutMs: Math.max(...mid.layoutCpu),
    maxFlushMs,
    slowestFlushAt: flushes.indexOf(maxFlushMs),
    slowestFlushGcMs: mid.gcCpu[flushes.indexOf(maxFlushMs)] ?? 0,
    maxFlushLessGcMs: Math.max(...flushes.map((ms, i) => ms - (mid.gcCpu[i] ?? 0))),
    earlyRenderMs: mean(mid.renderCpu.slice(0, tenth)),
    lateRenderMs: mean(mid.renderCpu.slice(-tenth - 1, -1)),
    wallMs: mid.totalMs,
  };
}

export async function benchWebviewRender(opts: { runs?: number; sizesKB?: number[]; shapes?: readonly Shape[] } = {}): Promise<BenchFigures> {
  const runs = opts.runs ?? 1;
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
    await measure(browser, page, cdp, url, shapeMarkdown('mixed', 25 * 1024), chunkChars, 1);
    const shapes: ShapeFigures[] = [];
    for (const shape of opts.shapes ?? SHAPES) {
      const sizes: SizeFigures[] = [];
      for (const kb of sizesKB) sizes.push(await measure(browser, page, cdp, url, shapeMarkdown(shape, kb * 1024), chunkChars, runs));
      shapes.push({
        shape,
        sizes,
        renderExponent: growthExponent(sizes.map((z) => ({ x: z.sizeKB, y: z.renderMs }))),
        frameExponent: growthExponent(sizes.map((z) => ({ x: z.sizeKB, y: z.renderMs + z.layoutMs }))),
      });
    }
    const table = tableMarkdown(40 * 1024);
    const t40 = await measure(browser, page, cdp, url, table, chunkChars, runs);
    const oneShots: number[] = [];
    for (let r = 0; r < 3; r++) oneShots.push(await oneShot(page, url, table));
    await context.close();
    return {
      chunkChars,
      runs,
      shapes,
      table40: {
        renderMs: t40.renderMs,
        frameMs: t40.renderMs + t40.layoutMs,
        maxRenderMs: t40.maxRenderMs,
        maxFlushMs: t40.maxFlushMs,
        chunks: t40.chunks,
        oneShotMs: median(oneShots),
      },
    };
  } finally {
    await browser.close().catch(() => undefined);
    await server.close();
  }
}

export function printWebviewRender(f: BenchFigures): void {
  const fx = (n: number, d = 2) => n.toFixed(d);
  console.log(
    `measured: real chromium, real bundle and CSP; each answer streamed in ~${f.chunkChars}-char chunks, every chunk delivered as a textDelta and ` +
      `rendered synchronously (no per-frame coalescing), then a forced style + layout (what the frame showing it pays); a flush = one chunk's render + that layout; ` +
      `times are main-thread CPU from Chrome's trace (User Timing marks' tts), so time descheduled by other load on the machine is not counted; ` +
      `garbage collection in a flush is the wall time of V8's collections (MinorGC, MajorGC and V8.GC* phases, overlaps joined) from the same trace; ` +
      `${f.runs === 1 ? 'one run' : `median of ${f.runs} runs`} per size`,
  );
  console.log('shape  size    chunks  render ms  layout ms  max flush  max chunk  p99 chunk  early/late chunk  max layout  wall ms');
  for (const s of f.shapes) {
    for (const z of s.sizes) {
      console.log(
        `${s.shape.padEnd(5)}  ${String(z.sizeKB).padStart(3)} KB  ${String(z.chunks).padStart(6)}  ${fx(z.renderMs, 0).padStart(9)}  ${fx(z.layoutMs, 0).padStart(9)}  ` +
          `${fx(z.maxFlushMs).padStart(9)}  ${fx(z.maxRenderMs).padStart(9)}  ${fx(z.p99RenderMs).padStart(9)}  ` +
          `${`${fx(z.earlyRenderMs, 3)} / ${fx(z.lateRenderMs, 3)}`.padStart(16)}  ${fx(z.maxLayoutMs).padStart(10)}  ${fx(z.wallMs, 0).padStart(7)}`,
      );
    }
  }
  for (const s of f.shapes) {
    const slowest = s.sizes.reduce((a, z) => (z.maxFlushMs > a.maxFlushMs ? z : a));
    const slowestRender = s.sizes.reduce((a, z) => (z.maxRenderMs > a.maxRenderMs ? z : a));
    console.log(
      `${s.shape}: growth exponent with layout ${fx(s.frameExponent)} (rendering alone ${fx(s.renderExponent)}; slope of log CPU time over log size, 25-200 KB; ` +
        `1 = linear, 2 = quadratic); slowest flush incl. layout ${fx(slowest.maxFlushMs)} ms (chunk ${slowest.slowestFlushAt} of ${slowest.chunks} at ${slowest.sizeKB} KB; ` +
        `0 = the first, in a fresh page, ${slowest.chunks} = the end of the stream), of which garbage collection ${fx(slowest.slowestFlushGcMs)} ms; ` +
        `slowest flush less the collections inside it ${fx(Math.max(...s.sizes.map((z) => z.maxFlushLessGcMs)))} ms; slowest render alone ${fx(slowestRender.maxRenderMs)} ms`,
    );
  }
  const t = f.table40;
  console.log(
    `40 KB table: streamed with ${fx(t.frameMs, 0)} ms of render + layout CPU (${fx(t.renderMs, 0)} ms rendering; ${t.chunks} chunks, ` +
      `slowest flush ${fx(t.maxFlushMs)} ms); rendered at once: ${fx(t.oneShotMs, 0)} ms wall incl. layout`,
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
