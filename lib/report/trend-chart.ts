import { scaleLinear, scalePoint } from 'd3-scale';
import { line } from 'd3-shape';
import escapeHtml from 'escape-html';
import type { Severity } from '../domain/finding.js';
import type { TrendPoint } from './model.js';

/**
 * The trend of open findings by severity over the last runs, as inline SVG drawn here (d3-scale
 * for the axes, d3-shape for the lines): the report needs no script and fetches nothing to show it.
 */

export const SEVERITY_COLOURS: Record<Severity, string> = { critical: '#b42318', warning: '#b54708', info: '#175cd3' };
const SERIES: readonly Severity[] = ['critical', 'warning', 'info'];

const WIDTH = 720;
const HEIGHT = 240;
const MARGIN = { top: 16, right: 16, bottom: 40, left: 44 };

const shortDate = (iso: string) => iso.slice(5, 10);

export function renderTrendChart(points: readonly TrendPoint[]): string {
  const x = scalePoint<string>()
    .domain(points.map((p) => p.runId))
    .range([MARGIN.left, WIDTH - MARGIN.right])
    .padding(0.5);
  const top = Math.max(1, ...points.flatMap((p) => SERIES.map((s) => p[s])));
  const y = scaleLinear().domain([0, top]).nice().range([HEIGHT - MARGIN.bottom, MARGIN.top]);
  const yTicks = y.ticks(Math.min(5, y.domain()[1]!)).filter(Number.isInteger);
  // At most ~10 date labels under the axis, whatever the number of runs.
  const every = Math.max(1, Math.ceil(points.length / 10));

  const grid = yTicks
    .map((t) => `<g class="tick"><line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(t)}" y2="${y(t)}" stroke="#e4e7ec"/><text x="${MARGIN.left - 6}" y="${y(t)}" dy="0.32em" text-anchor="end">${t}</text></g>`)
    .join('');
  const xLabels = points
    .map((p, i) => (i % every === 0 || i === points.length - 1 ? `<text x="${x(p.runId)}" y="${HEIGHT - MARGIN.bottom + 18}" text-anchor="middle">${escapeHtml(shortDate(p.startedAt))}</text>` : ''))
    .join('');
  const series = SERIES.map((severity) => {
    const path = line<TrendPoint>()
      .x((p) => x(p.runId) ?? 0)
      .y((p) => y(p[severity]))(points as TrendPoint[]);
    const dots = points
      .map(
        (p) =>
          `<circle cx="${x(p.runId)}" cy="${y(p[severity])}" r="3" fill="${SEVERITY_COLOURS[severity]}"><title>${escapeHtml(`${p.startedAt} (${p.runId}): ${p[severity]} ${severity}`)}</title></circle>`,
      )
      .join('');
    return `<g class="series" data-severity="${severity}"><path d="${path ?? ''}" fill="none" stroke="${SEVERITY_COLOURS[severity]}" stroke-width="2"/>${dots}</g>`;
  }).join('');
  const legend = SERIES.map(
    (s, i) => `<g transform="translate(${MARGIN.left + i * 110},${HEIGHT - 8})"><rect width="10" height="10" y="-9" fill="${SEVERITY_COLOURS[s]}"/><text x="14">${s}</text></g>`,
  ).join('');
  const label = `Open findings by severity over the last ${points.length} run(s)`;
  return (
    `<svg class="trend" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(label)}" xmlns="http://www.w3.org/2000/svg">` +
    `<title>${escapeHtml(label)}</title>${grid}` +
    `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(0)}" y2="${y(0)}" stroke="#98a2b3"/>${xLabels}${series}${legend}</svg>`
  );
}
