// Time-series charts for tool output, with a text alternative for screen readers. The
// figure (caption, data table) is built here; Chart.js draws the canvas from a second bundle
// loaded on the first chart (chartLoader.ts), so a chat without charts never loads it.
import type { ChartConfiguration } from 'chart.js';
import type { TimeSeriesView } from '../shared/protocol';
import { loadCharts, type DrawnChart } from './chartLoader';
import { h, icon } from './dom';
import { groupedNumber } from './format';

const live = new Set<SeriesChart>();
let themeObserver: MutationObserver | null = null;

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value || fallback;
}

interface ThemeColours {
  palette: string[];
  text: string;
  grid: string;
  font: string;
}

function themeColours(): ThemeColours {
  return {
    palette: [
      cssVar('--vscode-charts-blue', '#3794ff'),
      cssVar('--vscode-charts-orange', '#d18616'),
      cssVar('--vscode-charts-green', '#89d185'),
      cssVar('--vscode-charts-purple', '#b180d7'),
      cssVar('--vscode-charts-red', '#f14c4c'),
      cssVar('--vscode-charts-yellow', '#cca700'),
    ],
    text: cssVar('--vscode-descriptionForeground', cssVar('--vscode-foreground', '#888888')),
    grid: cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', 'rgba(128,128,128,0.35)')),
    font: cssVar('--vscode-font-family', 'sans-serif'),
  };
}

/** Same colour at a given opacity, for fills ("#rrggbb" or "rgb()" input). */
function withAlpha(colour: string, alpha: number): string {
  const hex = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(colour);
  if (hex?.[1]) {
    const n = parseInt(hex[1], 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  const rgb = /^rgba?\(([^)]+)\)$/i.exec(colour);
  if (rgb?.[1]) {
    const [r, g, b] = rgb[1].split(',').map((p) => p.trim());
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  return colour;
}

const dayMs = 86_400_000;

/** "per day" etc. from the spacing of ISO-ish x values, or '' when not dates / irregular. */
export function granularity(xs: readonly string[]): string {
  if (xs.length < 2) return '';
  const times = xs.map((x) => (/^\d{4}-\d{2}-\d{2}/.test(x) ? Date.parse(x) : NaN));
  if (times.some((t) => Number.isNaN(t))) return '';
  const steps: number[] = [];
  for (let i = 1; i < times.length; i++) steps.push((times[i] ?? 0) - (times[i - 1] ?? 0));
  steps.sort((a, b) => a - b);
  const median = steps[Math.floor(steps.length / 2)] ?? 0;
  if (Math.abs(median - 3_600_000) < 60_000) return 'per hour';
  if (Math.abs(median - dayMs) < 2 * 3_600_000) return 'per day';
  if (Math.abs(median - 7 * dayMs) < dayMs) return 'per week';
  if (median >= 27 * dayMs && median <= 32 * dayMs) return 'per month';
  return '';
}

function formatX(x: string, grain: string): string {
  if (!/^\d{4}-\d{2}-\d{2}/.test(x)) return x;
  const t = Date.parse(x);
  if (Number.isNaN(t)) return x;
  const d = new Date(t);
  if (grain === 'per hour') {
    return d.toLocaleString('en-US', { month: 'short', day: 'numeric', hour: 'numeric', timeZone: 'UTC' });
  }
  if (grain === 'per month') return d.toLocaleDateString('en-US', { month: 'short', year: 'numeric', timeZone: 'UTC' });
  return d.toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/** "signed_up per day: 7 points, total 123" for each series, joined with "; ". */
export function seriesSummary(series: readonly TimeSeriesView[]): string {
  return series
    .map((s) => {
      const grain = granularity(s.points.map((p) => p.x));
      const total = s.points.reduce((sum, p) => sum + (Number.isFinite(p.y) ? p.y : 0), 0);
      const count = s.points.length;
      return `${s.label}${grain ? ` ${grain}` : ''}: ${count} point${count === 1 ? '' : 's'}, total ${groupedNumber(total)}`;
    })
    .join('; ');
}

export class SeriesChart {
  readonly el: HTMLElement;
  private chart: DrawnChart | null = null;
  private destroyed = false;
  private readonly canvas: HTMLCanvasElement;
  private readonly labels: string[];
  private readonly type: 'line' | 'bar';
  private readonly xs: string[];

  constructor(private readonly series: readonly TimeSeriesView[]) {
    const xs: string[] = [];
    const seen = new Set<string>();
    for (const s of series)
      for (const p of s.points)
        if (!seen.has(p.x)) {
          seen.add(p.x);
          xs.push(p.x);
        }
    const grain = granularity(xs);
    this.labels = xs.map((x) => formatX(x, grain));
    this.xs = xs;
    const maxPoints = Math.max(0, ...series.map((s) => s.points.length));
    this.type = maxPoints > 14 ? 'line' : 'bar';

    const summary = seriesSummary(series);
    this.canvas = h('canvas', { role: 'img', 'aria-label': summary });
    this.canvas.textContent = summary; // fallback content
    const box = h('div', { class: 'chart-box' }, this.canvas);
    this.el = h(
      'figure',
      { class: 'chart' },
      h('figcaption', { class: 'chart-caption' }, icon('graph'), h('span', { text: summary })),
      box,
      this.dataTable(grain),
    );
    this.create();
    live.add(this);
    watchTheme();
  }

  private dataTable(grain: string): HTMLElement {
    const head = h('tr', null, h('th', { scope: 'col', text: grain ? 'Date' : 'x' }), ...this.series.map((s) => h('th', { scope: 'col', text: s.label })));
    const byX = this.series.map((s) => new Map(s.points.map((p) => [p.x, p.y] as const)));
    const rows = this.xs.map((x) =>
      h('tr', null, h('th', { scope: 'row', text: x }), ...byX.map((m) => h('td', { class: 'num', text: m.has(x) ? groupedNumber(m.get(x) ?? 0) : '' }))),
    );
    return h(
      'details',
      { class: 'chart-data' },
      h('summary', { text: 'Data table' }),
      h('div', { class: 'table-scroll' }, h('table', null, h('thead', null, head), h('tbody', null, ...rows))),
    );
  }

  /**
   * Axis labels for a short daily series: weekday over day of month ("Mon" / "23"), narrow
   * enough that every day keeps its label in a 290 px sidebar. The month shows under the
   * first day and wherever it changes. Other series keep their one-line labels.
   */
  private axisLabels(): (string | string[])[] | undefined {
    if (this.xs.length > 14 || granularity(this.xs) !== 'per day') return undefined;
    let month = '';
    return this.xs.map((x, i) => {
      const d = new Date(Date.parse(x));
      if (Number.isNaN(d.getTime())) return this.labels[i] ?? x;
      const weekday = d.toLocaleDateString('en-US', { weekday: 'short', timeZone: 'UTC' });
      const m = d.toLocaleDateString('en-US', { month: 'short', timeZone: 'UTC' });
      const day = String(d.getUTCDate());
      const lines = [weekday, m !== month ? `${m} ${day}` : day];
      month = m;
      return lines;
    });
  }

  private config(): ChartConfiguration<'line' | 'bar'> {
    const t = themeColours();
    const axis = this.axisLabels();
    const positionOf = new Map(this.xs.map((x, i) => [x, i] as const));
    const datasets = this.series.map((s, i) => {
      const colour = t.palette[i % t.palette.length] ?? '#3794ff';
      const data: (number | null)[] = this.xs.map(() => null);
      for (const p of s.points) {
        const at = positionOf.get(p.x);
        if (at !== undefined) data[at] = Number.isFinite(p.y) ? p.y : null;
      }
      return {
        label: s.label,
        data,
        borderColor: colour,
        backgroundColor: this.type === 'bar' ? withAlpha(colour, 0.75) : withAlpha(colour, 0.15),
        fill: this.type === 'line' && this.series.length === 1,
        borderWidth: 2,
        pointRadius: this.xs.length > 40 ? 0 : 2,
        tension: 0.25,
        borderRadius: 2,
        maxBarThickness: 28,
      };
    });
    const font = { family: t.font, size: 11 };
    return {
      type: this.type,
      data: { labels: this.labels, datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: 'index', intersect: false },
        plugins: {
          legend: { display: this.series.length > 1, labels: { color: t.text, font, boxWidth: 10 } },
          tooltip: { enabled: true },
        },
        scales: {
          x: {
            ticks: {
              color: t.text,
              font,
              maxRotation: 0,
              autoSkipPadding: 8,
              ...(axis ? { autoSkip: false, callback: (_value: unknown, index: number) => axis[index] ?? '' } : {}),
            },
            grid: { display: false },
            border: { color: t.grid },
          },
          y: { beginAtZero: true, ticks: { color: t.text, font, precision: 0 }, grid: { color: t.grid }, border: { display: false } },
        },
      },
    };
  }

  private create(): void {
    loadCharts().then(
      (charts) => {
        if (this.destroyed) return;
        this.chart?.destroy();
        this.chart = charts.drawChart(this.canvas, this.config(), this.el);
      },
      (err: unknown) => {
        // The caption and the data table still carry the numbers.
        console.warn('OnBehalf: the chart could not be drawn', err);
      },
    );
  }

  /** Re-reads theme colours (VS Code changes the CSS variables when the theme changes). */
  refreshTheme(): void {
    if (this.chart) this.create();
  }

  destroy(): void {
    this.destroyed = true;
    live.delete(this);
    this.chart?.destroy();
    this.chart = null;
  }
}

function watchTheme(): void {
  if (themeObserver) return;
  themeObserver = new MutationObserver(() => {
    for (const chart of live) chart.refreshTheme();
  });
  themeObserver.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-id'] });
}
