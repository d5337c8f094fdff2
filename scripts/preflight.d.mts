// Types of preflight.mjs (plain Node: the set-up runs it before node_modules exists), for the
// local cluster's own `up`, which checks the same prerequisites.

export interface Needs {
  cluster?: boolean;
  serviceProxy?: boolean;
  goBuilds?: string[];
  venv?: boolean;
  rerun?: string;
}
export interface Host {
  env: NodeJS.ProcessEnv;
  uid: number;
}
export interface Problem {
  message: string;
  fix?: string;
  pkg?: string;
  root?: boolean;
}
export interface PreflightReport {
  problems: Problem[];
  packages: string[];
  buildsAhead: string[];
}
export declare function preflight(needs: Needs, host?: Host): PreflightReport;
export declare function explain(report: PreflightReport, host?: Host): string[];
