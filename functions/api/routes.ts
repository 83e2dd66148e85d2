/**
 * What each route of the REST API takes and answers: the schemas its core validates with and its OpenAPI
 * description. The handler builds its router from these, and GET /openapi.json renders them (shared/http/openapi.ts).
 * Kept apart from the cores so the document can be rendered without loading the lifecycle.
 */
import * as z from 'zod';
import type { RouteDoc } from '../../shared/http/openapi.js';
import { CHAOS_TYPES, chaosToolkitSpecSchema, experimentSchema } from '../../shared/model/experiment.js';
import { FINAL_STATUSES } from '../../shared/model/lifecycle.js';

export const listQuery = z.strictObject({
  status: z.enum(['pending', 'running', ...FINAL_STATUSES]).optional(),
  chaos_type: z.enum(CHAOS_TYPES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(2048).optional().meta({ description: 'The `next_cursor` of the page before' }),
});

export const stopBody = z.strictObject({ reason: z.string().max(1024).default('') });

export const topologyQuery = z.strictObject({ region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'not an AWS region such as eu-west-1').optional() });
const clusterParam = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\w.:@/-]+$/, 'not a cluster name (a kubeconfig context, or an EKS cluster name or ARN)')
  .optional()
  .meta({ description: 'A kubeconfig context locally, an EKS cluster name or ARN in AWS; the default one when left out' });
export const k8sTopologyQuery = z.strictObject({ cluster: clusterParam });
export const combinedTopologyQuery = z.strictObject({ region: topologyQuery.shape.region, cluster: clusterParam });

const isoTime = z.iso.datetime({ offset: true, error: 'an ISO 8601 time, e.g. 2026-03-01T10:00:00Z' });

/** The most experiments one steady-state answer reads probe results from. */
export const MAX_STEADY_STATE_EXPERIMENTS = 50;

export const steadyStateQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_STEADY_STATE_EXPERIMENTS).default(20).meta({ description: 'How many of the newest matching experiments to read' }),
  since: isoTime.optional().meta({ description: 'Only experiments created since' }),
  target: z.string().min(1).max(1024).optional().meta({ description: 'A target key as answered (`sandbox:default/app=demo`)' }),
  namespace: z.string().max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'not a valid namespace name').optional(),
  region: topologyQuery.shape.region,
  cluster: clusterParam,
});

/** As Stripe's: up to 255 visible ASCII characters, so any key fits the store's key-size limit with room to spare. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** A Chaos Toolkit experiment file as written for `chaos run`, unchanged (its own format; checked by its rules). */
const chaosToolkitDocument = z
  .looseObject({ title: z.string(), description: z.string(), method: z.array(z.looseObject({})) })
  .meta({ id: 'ChaosToolkitExperiment', description: 'A Chaos Toolkit experiment, exactly as `chaos run` reads it (https://chaostoolkit.org/reference/api/experiment/)' });

/** What POST /api/chaos/experiments and POST /api/chaos/dry-run take: one of the three shapes, told apart by their fields. */
export const experimentRequest = z.union([
  experimentSchema.meta({ id: 'Experiment', description: 'A ChaosDuck experiment: one fault (`chaos_type`) on its `target`' }),
  chaosToolkitSpecSchema.meta({ id: 'ChaosToolkitSpec', description: 'A Chaos Toolkit experiment with ChaosDuck settings around it (`format: chaostoolkit`)' }),
  chaosToolkitDocument,
]);

const experimentSummary = z
  .looseObject({
    id: z.string(),
    name: z.string(),
    chaos_type: z.enum(CHAOS_TYPES).nullable(),
    format: z.enum(['chaosduck', 'chaostoolkit']),
    status: z.string(),
    phase: z.string().nullable(),
    reason: z.string().nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    ended_at: z.string().nullable(),
    execution_arn: z.string().nullable(),
  })
  .meta({ id: 'ExperimentSummary' });

const accepted = z.strictObject({
  id: z.string(),
  execution_arn: z.string(),
  status: z.enum(['pending', 'rolling_back']),
  links: z.strictObject({ self: z.string() }),
  warnings: z.array(z.string()).optional(),
});

const dryRunPlan = { description: 'The plan: the targets it would hit and what it would do to each; nothing is injected or stored' };
const emergencyStopActive = { description: 'The emergency stop is on (or the target system cannot be reached as configured): nothing was started' };
const guardrail = { description: 'A guardrail refused it (blast radius, production guard, target lease, no targets), or a conflict: nothing was injected' };

export const API_ROUTES = {
  health: {
    method: 'GET',
    path: '/health',
    operationId: 'health',
    tag: 'control',
    auth: false,
    summary: 'Liveness, and whether the emergency stop is on',
    responses: { 200: { description: 'Up', schema: z.looseObject({ status: z.literal('ok'), runtime: z.string(), emergency_stop: z.unknown() }) } },
  },
  emergencyStop: {
    method: 'POST',
    path: '/emergency-stop',
    operationId: 'raiseEmergencyStop',
    tag: 'control',
    summary: 'Raise the emergency stop: every running experiment rolls back, no new one starts',
    body: { schema: stopBody, required: false },
    responses: { 200: { description: 'Raised; the experiments it stopped' } },
  },
  liftStop: {
    method: 'DELETE',
    path: '/emergency-stop',
    operationId: 'liftEmergencyStop',
    tag: 'control',
    summary: 'Lift the emergency stop',
    responses: { 200: { description: 'Lifted' } },
  },
  createExperiment: {
    method: 'POST',
    path: '/api/chaos/experiments',
    operationId: 'createExperiment',
    tag: 'experiments',
    summary: 'Start an experiment (ChaosDuck or Chaos Toolkit format)',
    description: 'With `safety.dry_run: true` nothing is started: the answer is the plan, as POST /api/chaos/dry-run gives it.',
    headers: z.strictObject({
      'Idempotency-Key': z.string().regex(IDEMPOTENCY_KEY).optional().meta({ description: 'The same key and body within 24 hours start one experiment; the replay answers `Idempotent-Replayed: true`' }),
    }),
    body: { schema: experimentRequest, required: true },
    responses: {
      200: dryRunPlan,
      202: { description: 'Accepted: the experiment runs', schema: accepted },
      409: guardrail,
      503: emergencyStopActive,
    },
  },
  listExperiments: {
    method: 'GET',
    path: '/api/chaos/experiments',
    operationId: 'listExperiments',
    tag: 'experiments',
    summary: 'Experiments, newest first',
    query: listQuery,
    responses: {
      200: {
        description: 'A page; `next_cursor` fetches the next. A stored item that cannot be read is listed under `corrupt` beside the others',
        schema: z.strictObject({
          items: z.array(experimentSummary),
          next_cursor: z.string().nullable(),
          corrupt: z.array(z.strictObject({ key: z.string(), message: z.string() })).optional(),
        }),
      },
    },
  },
  getExperiment: {
    method: 'GET',
    path: '/api/chaos/experiments/{id}',
    operationId: 'getExperiment',
    tag: 'experiments',
    summary: 'One experiment: its spec, phase results, rollback stack, and events while it runs or its journal once ended',
    responses: { 200: { description: 'The experiment' } },
  },
  rollbackExperiment: {
    method: 'POST',
    path: '/api/chaos/experiments/{id}/rollback',
    operationId: 'rollbackExperiment',
    tag: 'experiments',
    summary: 'Roll a running experiment back now (last change first)',
    responses: { 202: { description: 'Rolling back', schema: accepted }, 409: { description: 'It has already ended' } },
  },
  dryRun: {
    method: 'POST',
    path: '/api/chaos/dry-run',
    operationId: 'dryRun',
    tag: 'experiments',
    summary: 'What an experiment would do, without doing it',
    body: { schema: experimentRequest, required: true },
    responses: { 200: dryRunPlan, 409: guardrail, 503: emergencyStopActive },
  },
  awsTopology: {
    method: 'GET',
    path: '/api/topology/aws',
    operationId: 'awsTopology',
    tag: 'topology',
    summary: 'What can be targeted in AWS: EC2 instances, RDS clusters and instances, subnets and route tables',
    query: topologyQuery,
    responses: { 200: { description: 'The AWS resources' }, 404: { description: 'This control plane has no AWS access configured' } },
  },
  k8sTopology: {
    method: 'GET',
    path: '/api/topology/k8s',
    operationId: 'k8sTopology',
    tag: 'topology',
    summary: 'What can be targeted in Kubernetes: namespaces, deployments, pods, services',
    query: k8sTopologyQuery,
    responses: { 200: { description: 'The Kubernetes resources' }, 404: { description: 'This control plane has no Kubernetes access configured' } },
  },
  steadyState: {
    method: 'GET',
    path: '/api/topology/steady-state',
    operationId: 'steadyState',
    tag: 'topology',
    summary: 'The steady state as last seen: the latest value of each probe per target, ready replicas, instance and DB states',
    description:
      "From the newest experiments (an ended one's journal, a running one's events) and what the topology sources read now; a source not configured or failing is `{available: false, error}`. `steady_state_met` is judged from each probe's latest reading before or after a fault; readings during one are shown, marked `when: during`, and do not count.",
    query: steadyStateQuery,
    responses: { 200: { description: 'The steady state by target, and the Kubernetes and AWS signals' } },
  },
  combinedTopology: {
    method: 'GET',
    path: '/api/topology/combined',
    operationId: 'combinedTopology',
    tag: 'topology',
    summary: 'Both topologies, and the local sandbox where one runs; a source not configured is null, one that fails is {error} in its place',
    description:
      'A source is `null` when this control plane is not configured for it at all (locally: no kubeconfig, neither KUBECONFIG nor ~/.kube/config; no AWS region or credentials in the environment or ~/.aws); one that is configured but fails (a cluster that does not answer, credentials refused) is `{error: {code, message}}` in its place.',
    query: combinedTopologyQuery,
    responses: {
      200: {
        description: 'Both topologies',
        schema: z.strictObject({
          aws: z.looseObject({}).nullable().meta({ description: 'The AWS resources; null when AWS is not configured; `{error}` when reading them failed' }),
          kubernetes: z.looseObject({}).nullable().meta({ description: 'The Kubernetes resources; null when no kubeconfig is configured; `{error}` when reading them failed' }),
          sandbox: z
            .looseObject({})
            .optional()
            .meta({ description: "The embedded runtime's sandbox (`chaosduck serve`): its service, labels and address, and each replica with its target id and readiness; absent where none runs" }),
        }),
      },
    },
  },
} as const satisfies Record<string, RouteDoc>;
