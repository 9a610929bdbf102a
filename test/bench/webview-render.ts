// Benchmark: how the chat webview's streaming markdown scales with answer size.
//
// In a real headless chromium with the real bundle and CSP, streams a markdown answer
// (paragraphs, lists, code fences, tables) of 25, 50 and 100 KB in ~51-character
// chunks (2,000 chunks for 100 KB). Every chunk is delivered as a host `textDelta`
// message and rendered synchronously before the next one (the worst case: no
// per-frame coalescing), including the forced layout the auto-scroll does. If
// rendering were quadratic (re-rendering the whole answer per chunk), doubling the
// size would quadruple the total time; linear means ~2x, with the per-chunk cost flat.
//
// Run: node esbuild.mjs && node out/test/bench/webview-render.js
import { chromium, type CDPSession, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../ui/helpers';
import { startFixtureServer } from '../ui/fixture';

export interface SizeFigures {
  readonly sizeKB: number;
  readonly chunks: number;
  /** Wall time in the page for delivering + rendering all chunks (median of runs). */
  readonly totalMs: number;
  readonly perChunkMs: number;
  /** Mean cost of a chunk in the first and the last 10% of the stream. */
  readonly earlyChunkMs: number;
  readonly lateChunkMs: number;
  readonly p95ChunkMs: number;
  /** Chromium's own accounting for the run (CDP Performance.getMetrics deltas). */
  readonly scriptMs: number;
  readonly layoutMs: number;
  readonly styleMs: number;
  /** Time for the same answer as one message (`item`, not streamed), for scale. */
  readonly oneShotMs: number;
}

export interface BenchFigures {
  readonly chunkChars: number;
  readonly runs: number;
  readonly sizes: readonly SizeFigures[];
  /** total(50 KB) / total(25 KB) and total(100 KB) / total(50 KB): ~2 when linear, ~4 when quadratic. */
  readonly ratio50over25: number;
  readonly ratio100over50: number;
  /** perChunk(100 KB) / perChunk(25 KB): ~1 when linear. */
  readonly perChunkRatio100over25: number;
  /** lateChunk / earlyChunk at 100 KB: ~1 when a chunk's cost does not depend on what came before. */
  readonly lateOverEarly100: number;
}

/** Deterministic markdown of about `bytes` characters. */
export function sampleMarkdown(bytes: number): string {
  let seed = 42;
  const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  const words =
    'signups retention funnel insight cohort weekly daily task project sprint owner due metric event query chart growth churn active users dashboard'.split(
      ' ',
    );
  const sentence = () => {
    const n = 8 + Math.floor(rand() * 12);
    const ws: string[] = [];
    for (let i = 0; i < n; i++) {
      const w = words[Math.floor(rand() * words.length)] ?? 'data';
      const r = rand();
      ws.push(r < 0.05 ? `**${w}**` : r < 0.09 ? `\`${w}\`` : r < 0.11 ? `[${w}](https://app.posthog.example/${w})` : w);
    }
    const s = ws.join(' ');
    return s.charAt(0).toUpperCase() + s.slice(1) + '.';
  };
  const parts: string[] = [];
  let size = 0;
  let section = 0;
  while (size < bytes) {
    let block: string;
    const r = rand();
    if (r < 0.08) block = `## Section ${++section}`;
    else if (r < 0.45) block = [sentence(), sentence(), sentence()].join(' ');
    else if (r < 0.62) block = Array.from({ length: 3 + Math.floor(rand() * 4) }, () => `- ${sentence()}`).join('\n');
    else if (r < 0.72) block = Array.from({ length: 3 + Math.floor(rand() * 3) }, (_, i) => `${i + 1}. ${sentence()}`).join('\n');
    else if (r < 0.9) {
      const lines = Array.from({ length: 6 + Math.floor(rand() * 10) }, (_, i) =>
        i % 5 === 4 ? '' : `  const v${i} = await query("${words[i % words.length]}", { days: ${i} });`,
      );
      block = ['```ts', ...lines, '```'].join('\n');
    } else
      block = [
        '| day | signups | active |',
        '|:--|--:|--:|',
        ...Array.from({ length: 5 }, (_, i) => `| 2024-05-0${i + 1} | ${Math.floor(rand() * 100)} | ${Math.floor(rand() * 900)} |`),
      ].join('\n');
    parts.push(block);
    size += block.length + 2;
  }
  return parts.join('\n\n').slice(0, bytes);
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
  oneShotMs: number;
}

async function runOnce(page: Page, cdp: CDPSession, url: string, markdown: string, chunks: string[]): Promise<RunResult> {
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
  const before = await metrics(cdp);
  const result = await page.evaluate((parts) => {
    const g = globalThis as unknown as {
      dispatchEvent(e: unknown): boolean;
      MessageEvent: new (type: string, init: { data: unknown }) => unknown;
      Event: new (type: string) => unknown;
      performance: { now(): number };
    };
    const times: number[] = [];
    const start = g.performance.now();
    for (const text of parts) {
      const t0 = g.performance.now();
      // Exactly what a host message does, but synchronous, then render now (no coalescing).
      g.dispatchEvent(new g.MessageEvent('message', { data: { type: 'textDelta', itemId: 'a', text } }));
      g.dispatchEvent(new g.Event('onbehalf:flush'));
      times.push(g.performance.now() - t0);
    }
    return { totalMs: g.performance.now() - start, times };
  }, chunks);
  const after = await metrics(cdp);
  const ms = (name: string) => ((after[name] ?? 0) - (before[name] ?? 0)) * 1000;

  // For scale: the same answer delivered at once as a finished item.
  const oneShotMs = await page.evaluate((md) => {
    const g = globalThis as unknown as {
      dispatchEvent(e: unknown): boolean;
      MessageEvent: new (type: string, init: { data: unknown }) => unknown;
      performance: { now(): number };
      document: { body: { offsetHeight: number } };
    };
    const t0 = g.performance.now();
    g.dispatchEvent(new g.MessageEvent('message', { data: { type: 'item', item: { kind: 'assistant', id: 'b', markdown: md, streaming: false } } }));
    void g.document.body.offsetHeight;
    return g.performance.now() - t0;
  }, markdown);

  const rendered = await page.evaluate(() => {
    const d = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document;
    return (d.querySelector('.msg-assistant .markdown')?.textContent ?? '').length;
  });
  if (rendered < markdown.length * 0.6) throw new Error(`rendered text too short: ${rendered} of ${markdown.length}`);

  return { ...result, scriptMs: ms('ScriptDuration'), layoutMs: ms('LayoutDuration'), styleMs: ms('RecalcStyleDuration'), oneShotMs };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

export async function benchWebviewRender(opts: { runs?: number; sizesKB?: number[] } = {}): Promise<BenchFigures> {
  const runs = opts.runs ?? 3;
  const sizesKB = opts.sizesKB ?? [25, 50, 100];
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
    {
      const md = sampleMarkdown(25 * 1024);
      await runOnce(page, cdp, url, md, chunk(md, Math.ceil(md.length / chunkChars)));
    }
    const sizes: SizeFigures[] = [];
    for (const kb of sizesKB) {
      const md = sampleMarkdown(kb * 1024);
      const parts = chunk(md, Math.ceil(md.length / chunkChars));
      const results: RunResult[] = [];
      for (let r = 0; r < runs; r++) results.push(await runOnce(page, cdp, url, md, parts));
      const best = results.slice().sort((a, b) => a.totalMs - b.totalMs)[Math.floor(results.length / 2)] ?? results[0];
      if (!best) throw new Error('no runs');
      const tenth = Math.max(1, Math.floor(parts.length / 10));
      const sorted = best.times.slice().sort((a, b) => a - b);
      sizes.push({
        sizeKB: kb,
        chunks: parts.length,
        totalMs: median(results.map((x) => x.totalMs)),
        perChunkMs: median(results.map((x) => x.totalMs)) / parts.length,
        earlyChunkMs: mean(best.times.slice(0, tenth)),
        lateChunkMs: mean(best.times.slice(-tenth)),
        p95ChunkMs: sorted[Math.floor(sorted.length * 0.95)] ?? 0,
        scriptMs: median(results.map((x) => x.scriptMs)),
        layoutMs: median(results.map((x) => x.layoutMs)),
        styleMs: median(results.map((x) => x.styleMs)),
        oneShotMs: median(results.map((x) => x.oneShotMs)),
      });
    }
    await context.close();
    const by = (kb: number) => sizes.find((s) => s.sizeKB === kb);
    const r = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? a / b : NaN);
    const s100 = by(100);
    return {
      chunkChars,
      runs,
      sizes,
      ratio50over25: r(by(50)?.totalMs, by(25)?.totalMs),
      ratio100over50: r(s100?.totalMs, by(50)?.totalMs),
      perChunkRatio100over25: r(s100?.perChunkMs, by(25)?.perChunkMs),
      lateOverEarly100: r(s100?.lateChunkMs, s100?.earlyChunkMs),
    };
  } finally {
    await browser.close().catch(() => undefined);
    await server.close();
  }
}

export function printWebviewRender(f: BenchFigures): void {
  const fx = (n: number, d = 2) => n.toFixed(d);
  console.log(`Chat webview streaming render: ~${f.chunkChars}-char chunks, every chunk rendered (no coalescing), median of ${f.runs} runs`);
  console.log('size    chunks  total ms  per chunk ms  early/late chunk ms  p95 ms  script ms  layout ms  style ms  one-shot ms');
  for (const s of f.sizes) {
    console.log(
      `${String(s.sizeKB).padStart(3)} KB  ${String(s.chunks).padStart(6)}  ${fx(s.totalMs, 0).padStart(8)}  ${fx(s.perChunkMs, 3).padStart(12)}  ` +
        `${`${fx(s.earlyChunkMs, 3)} / ${fx(s.lateChunkMs, 3)}`.padStart(19)}  ${fx(s.p95ChunkMs).padStart(6)}  ${fx(s.scriptMs, 0).padStart(9)}  ` +
        `${fx(s.layoutMs, 0).padStart(9)}  ${fx(s.styleMs, 0).padStart(8)}  ${fx(s.oneShotMs, 1).padStart(11)}`,
    );
  }
  console.log(`total(50)/total(25) = ${fx(f.ratio50over25)}   total(100)/total(50) = ${fx(f.ratio100over50)}   (linear ≈ 2, quadratic ≈ 4)`);
  console.log(`perChunk(100)/perChunk(25) = ${fx(f.perChunkRatio100over25)}   late/early chunk at 100 KB = ${fx(f.lateOverEarly100)}   (linear ≈ 1)`);
}

if (require.main === module) {
  benchWebviewRender()
    .then(printWebviewRender)
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
