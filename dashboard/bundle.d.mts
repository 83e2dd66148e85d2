/** Types of bundle.mjs (plain JavaScript, so scripts/build.mjs can run it with no compiler). */
export declare const DASHBOARD_BUDGET_GZIP_BYTES: number;
export declare function bundleDashboard(root: string): Promise<{
  /** By path under the dashboard's root: `index.html`, `assets/app.js`, `assets/app.css`, `assets/favicon.svg`. */
  files: Map<string, Buffer>;
  /** The files' gzipped sizes, summed. */
  gzipBytes: number;
  /** The repository's files it was made from (for cli/bin.js to tell whether a build is current). */
  sources: string[];
}>;
