// Chart.js is half of the chat bundle and most chats never draw a chart, so the drawing code
// is a second bundle (dist/webview/charts.js) loaded on the first chart. The page's CSP
// allows scripts by nonce only: the new <script> carries the nonce of the script that loaded
// this bundle, and its URL is a sibling of this bundle's URL (a webview resource URI).
import type { ChartConfiguration } from 'chart.js';

export interface DrawnChart {
  destroy(): void;
}

/** What charts.js exposes (src/webview/chartDraw.ts). */
export interface ChartsModule {
  drawChart(canvas: HTMLCanvasElement, config: ChartConfiguration<'line' | 'bar'>, figure: HTMLElement): DrawnChart;
}

const globalName = 'OnBehalfCharts';

let bundle: { src: string; nonce: string } | null = null;
let loading: Promise<ChartsModule> | null = null;

/** Called while the chat bundle's own <script> runs (document.currentScript is set then). */
export function rememberBundleScript(script: HTMLOrSVGScriptElement | null): void {
  if (script instanceof HTMLScriptElement && script.src) bundle = { src: script.src, nonce: script.nonce ?? '' };
}

function loaded(): ChartsModule | undefined {
  return (window as unknown as Record<string, ChartsModule | undefined>)[globalName];
}

/** Loads charts.js once; later calls share the same promise. */
export function loadCharts(): Promise<ChartsModule> {
  if (loading) return loading;
  loading = new Promise<ChartsModule>((resolve, reject) => {
    const ready = loaded();
    if (ready) return resolve(ready);
    if (!bundle) return reject(new Error('the chart script location is unknown'));
    const script = document.createElement('script');
    script.nonce = bundle.nonce;
    script.src = new URL('charts.js', bundle.src).href;
    script.addEventListener('load', () => {
      const module = loaded();
      if (module) resolve(module);
      else reject(new Error('the chart script did not register'));
    });
    script.addEventListener('error', () => {
      loading = null; // a later chart may try again
      reject(new Error('the chart script could not be loaded'));
    });
    document.head.appendChild(script);
  });
  return loading;
}
