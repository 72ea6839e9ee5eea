/**
 * Text and Markdown from a result object, in one import. Formatters only read the result: they never recompute
 * statistics. The parts: ./numbers (figures as people read them), ./modes (each load mode's text), ./report/ (a run's
 * lines, the whole report, progress, reports over several runs).
 */
export { describePlan, statementLines, scriptLines, backgroundLines, outageLines, requestInflation, clientLine, paramsLine, SHORT_RUN, shortRunWarning, modeText, poolerLine, estimateText, leadPlan, topNodeLines, serverLines } from './report/lines';
export type { ReportInput } from './report/lines';
export { formatTextReport, formatMarkdownReport } from './report/text';
export { shardLines } from './report/shards';
export { formatLensTitle, formatProgress, formatProgressRate, formatStage, formatTimeLeft, progressFraction, progressLine, stagesLeftMs, statusForProgress } from './report/progress';
export { formatAbReport, indexTrialLines, formatSweepReport, formatPoolComparison, formatComparison, formatTimelineCsv, formatCheckReport, formatCheckMarkdown } from './report/compare';

export { formatAgo, formatBytesShort, formatCount, formatMs, formatPercent, formatQps, formatRate } from './numbers';
export { describeLoad, modeLines } from './modes';
