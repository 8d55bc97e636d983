import { ConfigError, Problems } from './config-error';
import type { ServingCost } from './design';
import type { SageMakerInstanceType } from '../constructs/ml/endpoint-hosting';
import { HOURS_PER_MONTH } from '../pricing/us-east-1';
import {
  SAGEMAKER_INSTANCES,
  sageMakerInstance,
  type PricedInstanceType,
} from '../pricing/sagemaker-instances';

/**
 * Which SageMaker real-time hosting instances serve a design's model, and how many, from what one
 * request measurably costs (`ModelCode.serving`) and what the requirements ask of it: the cheapest
 * fleet that serves the peak at ENDPOINT_TARGET_UTILISATION, every request inside the latency budget.
 *
 * How an instance serves: the SageMaker PyTorch container runs TorchServe, whose default is one
 * worker per vCPU on a CPU instance and one per GPU on a GPU instance (`default_workers_per_model`),
 * and every worker loads its own copy of the model. So an instance runs as many of those workers as
 * its memory holds, less RESERVED_MEMORY_MB (the hosting then sets `SAGEMAKER_MODEL_SERVER_WORKERS`
 * to that number), serves `workers x 1000 / msPerRequest` requests per second, and answers in the
 * measured p99 while it is not saturated; the 30% of headroom the target utilisation leaves is what
 * keeps requests from queueing. A vCPU is taken to run as fast as one of the machine that measured
 * the cost (both are hyperthreads of a recent Intel Xeon). The model server's own work per request
 * (HTTP, its Java frontend, the hand-over to the worker) is not in the measurement: for a model that
 * answers in half a millisecond it may be most of an instance's work, so such a design's
 * `instanceRequestsPerSecond` is an upper bound until a load test of one instance replaces it.
 *
 * A GPU instance is considered only when no CPU instance answers within the budget. A handler that
 * scores on the CPU (no `serving.gpu`) runs on a GPU instance's CPU in one worker per GPU, its GPU
 * idle: no faster, and priced as a GPU.
 *
 * Serverless hosting is not a candidate: production serves two A/B variants with a one-instance
 * canary and captures data, none of which a serverless endpoint does (`hostingProblems`).
 *
 * Not taken either: scoring inside the serving function, without an endpoint. A cosine top-K over
 * 200,000 items takes a few milliseconds on one vCPU, which a function could afford, but the models
 * served here hold their user tables (hundreds of MB to GB) that every function instance would load
 * on a cold start, and the A/B variants, the canary and data capture would have to be rebuilt in the
 * function; the designs' measurements are in their `serving` records.
 */

/** Scale out when instances pass 70% of what they can serve. */
export const ENDPOINT_TARGET_UTILISATION = 0.7;

/** What the operating system and the model server's frontend (a JVM) hold on every instance. */
export const RESERVED_MEMORY_MB = 1024;

/** The instance types the chooser compares: current CPU families first, then two GPU types. */
export const HOSTING_CANDIDATES: readonly PricedInstanceType[] = [
  'ml.c6i.large',
  'ml.c6i.xlarge',
  'ml.c7i.large',
  'ml.c7i.xlarge',
  'ml.m7i.large',
  'ml.m7i.xlarge',
  'ml.g4dn.xlarge',
  'ml.g5.xlarge',
];

/** What production hosted on before the choice was derived: two of these per variant. */
export const GPU_BASELINE_INSTANCE: PricedInstanceType = 'ml.g5.xlarge';

export interface EndpointHardwareInput {
  readonly serving: ServingCost;
  /** Requests per second reaching the endpoint at the sized peak (`Capacity.modelRequestsPerSecond`). */
  readonly modelRequestsPerSecond: number;
  /** The p99 the model must answer within, in milliseconds. */
  readonly latencyBudgetMs: number;
  /** After this many milliseconds the serving function answers from the fallback (`Capacity.modelTimeoutMs`). */
  readonly modelTimeoutMs: number;
  /** Instances per variant at the least: the one-instance canary needs two. */
  readonly minInstances: number;
  /** Production variants hosted, each sized to take all model traffic alone. */
  readonly variants: number;
  /** @default HOSTING_CANDIDATES */
  readonly candidates?: readonly PricedInstanceType[];
  /** @default ENDPOINT_TARGET_UTILISATION */
  readonly targetUtilisation?: number;
}

/** One fleet: an instance type and how many of it each variant runs. */
export interface EndpointFleet {
  readonly instanceType: SageMakerInstanceType;
  readonly gpus: number;
  /**
   * Model-server workers per instance, each with its own copy of the model: one per vCPU (or GPU),
   * fewer where memory runs out first.
   */
  readonly workersPerInstance: number;
  /** Requests per second one instance serves at full load. */
  readonly instanceRequestsPerSecond: number;
  /** The p99 of one request on it, in milliseconds. */
  readonly p99Ms: number;
  readonly minInstances: number;
  /** Instances per variant at the sized peak. */
  readonly maxInstances: number;
  /** Every variant at minInstances all month, and at maxInstances all month. */
  readonly monthlyUsd: { readonly idle: number; readonly peak: number };
}

export interface EndpointHardwareChoice extends EndpointFleet {
  readonly variants: number;
  readonly latencyBudgetMs: number;
  /** False where no candidate answers within the budget: the fleet is then the cheapest that holds the model. */
  readonly meetsLatency: boolean;
  /** Why this fleet, in a sentence. */
  readonly why: string;
  /** Every other candidate and what ruled it out, or how much more it would cost. */
  readonly rejected: readonly { readonly instanceType: SageMakerInstanceType; readonly why: string }[];
  /** The same load on GPU_BASELINE_INSTANCE, for a before-and-after: what production ran before. */
  readonly gpuBaseline: EndpointFleet & { readonly meetsLatency: boolean };
}

interface Evaluated {
  readonly fleet?: EndpointFleet;
  /** Why it cannot serve: memory, or latency (it holds the model, but answers too late). */
  readonly refused?: { readonly reason: 'memory' | 'latency'; readonly why: string };
}

/** The cheapest fleet for `input`; throws one ConfigError naming every bad field. */
export function chooseEndpointHardware(input: EndpointHardwareInput): EndpointHardwareChoice {
  const problems = new Problems();
  collectEndpointHardwareProblems(input, problems);
  problems.throwIfAny('endpoint hardware input');

  const candidates = input.candidates ?? HOSTING_CANDIDATES;
  const evaluated = candidates.map((type) => ({ type, ...evaluate(type, input) }));
  const byCost = (a: EndpointFleet, b: EndpointFleet) =>
    a.monthlyUsd.peak - b.monthlyUsd.peak ||
    a.monthlyUsd.idle - b.monthlyUsd.idle ||
    a.instanceType.localeCompare(b.instanceType);
  const serving = (gpu: boolean) =>
    evaluated
      .filter((c) => c.fleet && !c.refused && c.fleet.gpus > 0 === gpu)
      .map((c) => c.fleet!)
      .sort(byCost);
  const cpu = serving(false);
  const gpu = serving(true);
  const budget = input.latencyBudgetMs;
  let chosen: EndpointFleet;
  let why: string;
  let meetsLatency = true;
  if (cpu.length > 0) {
    chosen = cpu[0];
    why = `the cheapest CPU fleet that answers within ${budget} ms at p99 (${round(chosen.p99Ms)} ms) and serves the peak's ${round(input.modelRequestsPerSecond)} requests/s under ${percent(utilisation(input))} of its capacity`;
  } else if (gpu.length > 0) {
    chosen = gpu[0];
    why = `no CPU instance answers within ${budget} ms at p99; on ${chosen.instanceType} the model does in ${round(chosen.p99Ms)} ms`;
  } else {
    // Nothing answers in time: the fleet that holds the model for least. Where even a typical
    // answer comes after the serving function has given up, capacity for more of them buys nothing.
    const holding = evaluated
      .filter((c) => c.fleet && c.refused?.reason === 'latency')
      .map((c) => c.fleet!)
      .sort((a, b) => a.monthlyUsd.idle - b.monthlyUsd.idle || byCost(a, b));
    const cheapest = holding[0];
    if (cheapest === undefined) {
      throw new ConfigError('endpoint hardware', [
        `serving.memoryMb: no candidate instance (${candidates.join(', ')}) holds one worker of ${input.serving.memoryMb} MB`,
      ]);
    }
    const hopeless = input.serving.cpuMsPerRequest > input.modelTimeoutMs;
    chosen = hopeless ? atMinimum(cheapest, input) : cheapest;
    meetsLatency = false;
    why =
      `no candidate answers within ${budget} ms at p99 (the fastest: ${round(Math.min(...holding.map((f) => f.p99Ms)))} ms); ` +
      (hopeless
        ? `a typical answer (${round(input.serving.cpuMsPerRequest)} ms) comes after the serving function's ${input.modelTimeoutMs} ms timeout, so the fleet stays at the cheapest that holds the model, ${input.minInstances} per variant: the model must get faster, not the hardware`
        : 'the cheapest fleet that holds the model and keeps up with the peak');
  }
  const rejected = evaluated
    .filter((c) => c.type !== chosen.instanceType)
    .map((c) => ({
      instanceType: c.type,
      why:
        c.refused?.why ??
        (c.fleet!.gpus > 0 && cpu.length > 0
          ? `a GPU, and a CPU instance answers within the budget (${usd(c.fleet!.monthlyUsd.peak)}/month at peak)`
          : `costs more: ${usd(c.fleet!.monthlyUsd.peak)}/month at peak, ${usd(c.fleet!.monthlyUsd.idle)} idle`),
    }));
  const baseline = evaluate(GPU_BASELINE_INSTANCE, input);
  const baselineFleet = baseline.fleet ?? fleet(GPU_BASELINE_INSTANCE, input, 1);
  return {
    ...chosen,
    variants: input.variants,
    latencyBudgetMs: budget,
    meetsLatency,
    why,
    rejected,
    gpuBaseline: { ...baselineFleet, meetsLatency: baseline.refused === undefined },
  };
}

/** Adds a problem for every field of `input` that is out of range. */
export function collectEndpointHardwareProblems(input: EndpointHardwareInput, problems: Problems): void {
  collectServingCostProblems(input.serving, problems.scoped('serving.'));
  problems.checkNumber('modelRequestsPerSecond', input.modelRequestsPerSecond, 1e-6, 1e7);
  problems.checkNumber('latencyBudgetMs', input.latencyBudgetMs, 1, 600_000);
  problems.checkNumber('modelTimeoutMs', input.modelTimeoutMs, 1, 600_000);
  problems.checkNumber('minInstances', input.minInstances, 1, 1000, true);
  problems.checkNumber('variants', input.variants, 1, 10, true);
  if (input.targetUtilisation !== undefined) {
    problems.checkNumber('targetUtilisation', input.targetUtilisation, 0.05, 1);
  }
  const candidates = input.candidates ?? HOSTING_CANDIDATES;
  if (candidates.length === 0) problems.add('candidates', 'must name at least one instance type');
  for (const type of candidates) {
    if (!sageMakerInstance(type)) {
      problems.add('candidates', `${type} is not in lib/platform/pricing/sagemaker-instances.ts`);
    }
  }
}

/** Adds a problem for every field of a measured serving cost that is out of range. */
export function collectServingCostProblems(serving: ServingCost, problems: Problems): void {
  // At most 10 minutes a request: past SageMaker's 60-second invocation limit, and any typo.
  problems.checkNumber('cpuMsPerRequest', serving.cpuMsPerRequest, 1e-6, 600_000);
  problems.checkNumber('p99CpuMsPerRequest', serving.p99CpuMsPerRequest, 1e-6, 600_000);
  if (serving.p99CpuMsPerRequest < serving.cpuMsPerRequest / 100) {
    problems.add('p99CpuMsPerRequest', 'is far below the mean: p99 and mean swapped, or a unit slipped');
  }
  problems.checkNumber('memoryMb', serving.memoryMb, 1, 4_000_000);
  if (serving.gpu) {
    problems.checkNumber('gpu.msPerRequest', serving.gpu.msPerRequest, 1e-6, 600_000);
    problems.checkNumber('gpu.p99MsPerRequest', serving.gpu.p99MsPerRequest, 1e-6, 600_000);
    problems.checkNumber('gpu.memoryMb', serving.gpu.memoryMb, 1, 4_000_000);
  }
  if (typeof serving.measuredWith !== 'string' || serving.measuredWith.trim() === '') {
    problems.add('measuredWith', 'must name the command that measured the cost');
  }
}

function evaluate(type: PricedInstanceType, input: EndpointHardwareInput): Evaluated {
  const spec = SAGEMAKER_INSTANCES[type];
  const onGpu = spec.gpus > 0 && input.serving.gpu !== undefined;
  const hostMb = spec.memoryGib * 1024 - RESERVED_MEMORY_MB;
  const workers = Math.min(
    spec.gpus > 0 ? spec.gpus : spec.vcpus,
    Math.floor(hostMb / input.serving.memoryMb),
  );
  if (workers < 1) {
    return {
      refused: {
        reason: 'memory',
        why: `cannot hold one worker of ${input.serving.memoryMb} MB (${hostMb} MB free)`,
      },
    };
  }
  if (onGpu && input.serving.gpu!.memoryMb > spec.gpuMemoryGib * 1024) {
    return {
      refused: {
        reason: 'memory',
        why: `its GPU holds ${spec.gpuMemoryGib} GiB, the model ${input.serving.gpu!.memoryMb} MB`,
      },
    };
  }
  const result = fleet(type, input, workers);
  if (result.p99Ms > input.latencyBudgetMs) {
    const idle = spec.gpus > 0 && !onGpu ? ': the handler scores on the CPU, the GPU would idle' : '';
    return {
      fleet: result,
      refused: {
        reason: 'latency',
        why: `p99 ${round(result.p99Ms)} ms is over the ${input.latencyBudgetMs} ms budget${idle}`,
      },
    };
  }
  return { fleet: result };
}

function fleet(type: PricedInstanceType, input: EndpointHardwareInput, workers: number): EndpointFleet {
  const spec = SAGEMAKER_INSTANCES[type];
  const onGpu = spec.gpus > 0 && input.serving.gpu !== undefined;
  const ms = onGpu ? input.serving.gpu!.msPerRequest : input.serving.cpuMsPerRequest;
  const p99Ms = onGpu ? input.serving.gpu!.p99MsPerRequest : input.serving.p99CpuMsPerRequest;
  const instanceRequestsPerSecond = (workers * 1000) / ms;
  const maxInstances = Math.max(
    input.minInstances,
    Math.ceil(input.modelRequestsPerSecond / (instanceRequestsPerSecond * utilisation(input))),
  );
  const monthly = (count: number) => roundCents(count * input.variants * spec.hosting * HOURS_PER_MONTH);
  return {
    instanceType: type,
    gpus: spec.gpus,
    workersPerInstance: workers,
    instanceRequestsPerSecond,
    p99Ms,
    minInstances: input.minInstances,
    maxInstances,
    monthlyUsd: { idle: monthly(input.minInstances), peak: monthly(maxInstances) },
  };
}

function atMinimum(chosen: EndpointFleet, input: EndpointHardwareInput): EndpointFleet {
  return {
    ...chosen,
    maxInstances: input.minInstances,
    monthlyUsd: { ...chosen.monthlyUsd, peak: chosen.monthlyUsd.idle },
  };
}

function utilisation(input: EndpointHardwareInput): number {
  return input.targetUtilisation ?? ENDPOINT_TARGET_UTILISATION;
}

function round(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

function roundCents(usdAmount: number): number {
  return Math.round(usdAmount * 100) / 100;
}

function usd(amount: number): string {
  return `$${amount.toLocaleString('en-US', { maximumFractionDigits: 0 })}`;
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}
