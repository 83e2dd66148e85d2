/**
 * What each route of the analysis function takes and answers (`/api/analysis/*`, an experiment's report page, and the
 * OpenAPI document): the schemas its core validates with and its description (shared/http/openapi.ts). The handler
 * builds its router from these, and API Gateway gives each path a resource integrated with this function (infra).
 */
import * as z from 'zod';
import type { RouteDoc } from '../../shared/http/openapi.js';
import { experimentRequest } from '../api/routes.js';

/** Experiment ids are `exp-<uuid>`; anything far from that shape names no experiment, and never reaches the store. */
export const experimentId = z.string().regex(/^[A-Za-z0-9][\w.:-]{0,127}$/, 'not an experiment id');
const journalLike = z.looseObject({ steady_states: z.looseObject({}), run: z.array(z.unknown()) });
const recordLike = z.looseObject({ id: experimentId, status: z.string() });

export const scoreBody = z.strictObject({
  experiments: z
    .array(z.union([experimentId, journalLike, recordLike], { error: 'an experiment id, an experiment record (with its id), or a journal' }))
    .min(1)
    .max(100),
});

const isoTime = z.iso.datetime({ offset: true, error: 'an ISO 8601 time, e.g. 2026-03-01T10:00:00Z' });
export const trendQuery = z.strictObject({
  target: z.string().min(1).max(512).optional(),
  service: z.string().min(1).max(256).optional(),
  chaos_type: z.string().min(1).max(64).optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).max(4096).optional(),
});

export const nlBody = z.strictObject({ prompt: z.string().trim().min(1, 'describe the experiment in words').max(2000) });

export const topologyBody = z.strictObject({
  topology: z.record(z.string(), z.unknown()).optional().meta({ description: "The system's topology; this control plane's own when left out" }),
  steady_state: z.record(z.string(), z.unknown()).optional(),
  limit: z.number().int().min(1).max(50).default(10),
});

export const reportBody = z.strictObject({ experiments: z.array(experimentId).min(1).max(20) });

const byAnalyst = 'Each answer says who made it: `source` (`claude` or `rules`), `model`, `usage` (tokens), and a `note` when the offline analyst stood in.';

export const ANALYSIS_ROUTES = {
  // The document of every route, served here in AWS: this function has room for the renderer; the API's carries the Kubernetes client.
  openApi: {
    method: 'GET',
    path: '/openapi.json',
    operationId: 'openApi',
    tag: 'control',
    summary: 'This document: every route, what it takes and what it answers (OpenAPI 3.1)',
    responses: { 200: { description: 'The OpenAPI document' } },
  },
  analyzeExperiment: {
    method: 'POST',
    path: '/api/analysis/experiment/{id}',
    operationId: 'analyzeExperiment',
    tag: 'analysis',
    summary: "What a finished experiment's journal shows, and what to do next",
    description: byAnalyst,
    responses: { 200: { description: 'The analysis: hypothesis held or not and why, findings by severity, score, recommendations' }, 409: { description: 'It has not ended yet' } },
  },
  hypotheses: {
    method: 'POST',
    path: '/api/analysis/hypotheses',
    operationId: 'hypotheses',
    tag: 'analysis',
    summary: 'Failure hypotheses ranked by likelihood and impact, each with a checked experiment',
    description: byAnalyst,
    body: { schema: topologyBody, required: false },
    responses: { 200: { description: 'The hypotheses' } },
  },
  generateExperiments: {
    method: 'POST',
    path: '/api/analysis/generate-experiments',
    operationId: 'generateExperiments',
    tag: 'analysis',
    summary: 'Candidate experiments for a topology, each validated and dry-run; none is submitted',
    description: byAnalyst,
    body: { schema: topologyBody, required: false },
    responses: { 200: { description: 'The candidates, runnable ones first' } },
  },
  report: {
    method: 'POST',
    path: '/api/analysis/report',
    operationId: 'analysisReport',
    tag: 'analysis',
    summary: 'A narrative report of finished experiments, as Markdown and as one self-contained HTML page',
    description: byAnalyst,
    body: { schema: reportBody, required: true },
    responses: { 200: { description: 'The report' } },
  },
  predict: {
    method: 'POST',
    path: '/api/analysis/predict',
    operationId: 'predict',
    tag: 'analysis',
    summary: 'The hypothesis an experiment would run with, and its predicted impact, without running it',
    description: byAnalyst,
    body: { schema: experimentRequest, required: true },
    responses: { 200: { description: 'The hypothesis and prediction' } },
  },
  nlExperiment: {
    method: 'POST',
    path: '/api/analysis/nl-experiment',
    operationId: 'nlExperiment',
    tag: 'analysis',
    summary: 'Natural language (English, Korean) to an experiment, validated and dry-run; never submitted',
    description: byAnalyst,
    body: { schema: nlBody, required: true },
    responses: { 200: { description: 'The experiment, what each phrase was read as, and its dry-run plan or refusal' } },
  },
  resilienceScore: {
    method: 'POST',
    path: '/api/analysis/resilience-score',
    operationId: 'resilienceScore',
    tag: 'analysis',
    summary: 'Resilience scores of experiments named by id, or given as records or journals, and their mean',
    body: { schema: scoreBody, required: true },
    responses: { 200: { description: 'The scores; those without one under `unscored` with the reason' } },
  },
  resilienceTrend: {
    method: 'GET',
    path: '/api/analysis/resilience-trend',
    operationId: 'resilienceTrend',
    tag: 'analysis',
    summary: 'Resilience scores in time order, filtered, a page at a time',
    query: trendQuery,
    responses: { 200: { description: 'A page of scores' } },
  },
  experimentReport: {
    method: 'GET',
    path: '/api/chaos/experiments/{id}/report',
    operationId: 'experimentReport',
    tag: 'experiments',
    summary: "A finished experiment's report: one self-contained HTML page with its charts",
    description: 'Timeline of phases, faults and rollback steps; each probe over time against its tolerance; recovery. Nothing is fetched when it opens. ' + byAnalyst,
    responses: { 200: { description: 'The page', contentType: 'text/html' }, 409: { description: 'It has not ended yet' } },
  },
  resilienceTrendSummary: {
    method: 'GET',
    path: '/api/analysis/resilience-trend/summary',
    operationId: 'resilienceTrendSummary',
    tag: 'analysis',
    summary: 'Over the window: how many, the latest, the mean, the change, the worst; and the same per group',
    query: trendQuery,
    responses: { 200: { description: 'The summary' } },
  },
} as const satisfies Record<string, RouteDoc>;
