// Entry point of dist/webview/charts.js: Chart.js with only the pieces we use registered (the
// rest tree-shakes away), loaded by chartLoader.ts when the first chart is drawn.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import type { DrawnChart } from './chartLoader';

Chart.register(LineController, BarController, LineElement, PointElement, BarElement, LinearScale, CategoryScale, Tooltip, Legend, Filler);

export function drawChart(canvas: HTMLCanvasElement, config: ChartConfiguration<'line' | 'bar'>, figure: HTMLElement): DrawnChart {
  return new Chart(canvas, {
    ...config,
    // How many labels the x axis shows after each layout, for tests and for anyone inspecting the figure.
    plugins: [
      {
        id: 'onbehalfTicks',
        afterLayout: (chart) => {
          figure.dataset['xTicks'] = String(chart.scales['x']?.ticks.length ?? 0);
        },
      },
    ],
  });
}
