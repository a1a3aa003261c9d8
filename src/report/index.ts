/**
 * Reports of a simulation: the terminal table, the self-contained HTML report and the charts as
 * PNG files, all from one {@link SimulationResult}.
 */
export type { SimulationResult } from '../sim/result.js';
export { renderTable } from './table.js';
export type { TableOptions } from './table.js';
export { writeHtmlReport, renderHtmlReport, REPORT_FILES } from './html.js';
export { writePngCharts, ChartFontError } from './png.js';
export type { PngOptions } from './png.js';
export { renderCharts } from './svg.js';
export type { Chart } from './svg.js';
