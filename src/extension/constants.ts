/**
 * Every id the extension contributes, in one place (package.json must match: test/unit/contributes.test.ts checks it).
 * The run options' settings (pgload.clients, pgload.thresholdMs, …) are named in the option table
 * (src/core/optionTable.ts), not here.
 */
export const Commands = {
  profileSelection: 'pgload.profileSelection',
  profileStatement: 'pgload.profileStatement',
  findPoolSize: 'pgload.findPoolSize',
  findCapacity: 'pgload.findCapacity',
  diagnose: 'pgload.diagnose',
  diagnoseStatement: 'pgload.diagnoseStatement',
  tryHint: 'pgload.tryHint',
  abTest: 'pgload.abTest',
  topRefresh: 'pgload.top.refresh',
  topOrder: 'pgload.top.order',
  topProfile: 'pgload.top.profile',
  editParameters: 'pgload.editParameters',
  cancel: 'pgload.cancel',
  selectConnection: 'pgload.selectConnection',
  addConnection: 'pgload.addConnection',
  testConnection: 'pgload.testConnection',
  forgetPassword: 'pgload.forgetPassword',
  trySample: 'pgload.trySample',
  stopSample: 'pgload.stopSample',
  showLastReport: 'pgload.showLastReport',
  showLog: 'pgload.showLog',
  runsOpen: 'pgload.runs.open',
  runsImport: 'pgload.runs.import',
  runsRename: 'pgload.runs.rename',
  runsPin: 'pgload.runs.pin',
  runsUnpin: 'pgload.runs.unpin',
  runsDelete: 'pgload.runs.delete',
  runsExport: 'pgload.runs.export',
  runsCompare: 'pgload.runs.compare',
} as const;

export const Settings = {
  section: 'pgload',
  connections: 'connections',
  defaultConnection: 'defaultConnection',
  codeLensEnabled: 'codeLens.enabled',
  askBeforeRun: 'askBeforeRun',
  sweepMaxClients: 'sweep.maxClients',
  sweepStepSeconds: 'sweep.stepSeconds',
  historyMaxRuns: 'history.maxRuns',
  topLimit: 'top.limit',
  appUsers: 'app.users',
  appPoolSize: 'app.poolSize',
  appMaxOverflow: 'app.maxOverflow',
  appPoolTimeoutSeconds: 'app.poolTimeoutSeconds',
  appThinkTimeSeconds: 'app.thinkTimeSeconds',
  appRequestsPerSecond: 'app.requestsPerSecond',
  appMaxP95Ms: 'app.maxP95Ms',
  diagnoseBudgetSeconds: 'diagnose.budgetSeconds',
  sampleRegistry: 'sample.registry',
  sampleFolder: 'sample.folder',
} as const;

export const RUNS_VIEW = 'pgload.runs';
export const TOP_VIEW = 'pgload.top';

export const ContextKeys = {
  running: 'pgload:running',
} as const;

export const PANEL_VIEW_TYPE = 'pgload.report';
export const SQL_LANGUAGES = ['sql', 'pgsql', 'postgres', 'postgresql'];
