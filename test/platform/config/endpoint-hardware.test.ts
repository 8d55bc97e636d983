import { resolveAppConfig } from '../../../lib/platform/config/app-config';
import { deriveCapacity } from '../../../lib/platform/config/capacity';
import { ConfigError } from '../../../lib/platform/config/config-error';
import type { ServingCost } from '../../../lib/platform/config/design';
import {
  chooseEndpointHardware,
  ENDPOINT_TARGET_UTILISATION,
  GPU_BASELINE_INSTANCE,
  HOSTING_CANDIDATES,
  type EndpointHardwareInput,
} from '../../../lib/platform/config/endpoint-hardware';
import { PROFILES } from '../../../lib/platform/config/profile';
import { SAGEMAKER_INSTANCES } from '../../../lib/platform/pricing/sagemaker-instances';
import { DESIGNS } from '../../../lib/designs';
import { FIXTURE_REQUIREMENTS, feedRanking } from '../../support/fixture-design';

const CHEAP: ServingCost = {
  cpuMsPerRequest: 2,
  p99CpuMsPerRequest: 5,
  memoryMb: 600,
  measuredWith: 'npm run fixture:serving-cost',
};

function input(overrides: Partial<EndpointHardwareInput> = {}): EndpointHardwareInput {
  return {
    serving: CHEAP,
    modelRequestsPerSecond: 100,
    latencyBudgetMs: 75,
    modelTimeoutMs: 200,
    minInstances: 2,
    variants: 2,
    ...overrides,
  };
}

const HOURS = 730;

describe('chooseEndpointHardware', () => {
  test('a model a CPU serves cheaply gets the cheapest CPU instance, with the minimum per variant', () => {
    // GIVEN 2 ms a request on one vCPU: 500 requests/s per vCPU
    const choice = chooseEndpointHardware(input());
    // THEN the cheapest 2-vCPU instance serves 100 requests/s at well under 70% of its 1,000
    expect(choice.instanceType).toBe('ml.c6i.large');
    expect(choice).toMatchObject({
      gpus: 0,
      workersPerInstance: 2,
      instanceRequestsPerSecond: 1000,
      minInstances: 2,
      maxInstances: 2,
      meetsLatency: true,
      variants: 2,
      latencyBudgetMs: 75,
    });
    // Both variants at two instances each, all month.
    expect(choice.monthlyUsd.idle).toBeCloseTo(4 * 0.102 * HOURS, 2);
    expect(choice.why).toMatch(/cheapest CPU fleet that answers within 75 ms/);
    // AND every other candidate says why not: the GPUs because a CPU serves
    expect(choice.rejected.map((r) => r.instanceType).sort()).toEqual(
      HOSTING_CANDIDATES.filter((type) => type !== 'ml.c6i.large').sort(),
    );
    expect(choice.rejected.find((r) => r.instanceType === 'ml.g5.xlarge')?.why).toMatch(
      /a GPU, and a CPU instance answers within the budget/,
    );
  });

  test('the fleet follows the peak: each variant is sized for all model traffic at the target utilisation', () => {
    // GIVEN 10 ms a request: 100 requests/s per vCPU, 200 per 2-vCPU instance
    const slow = (modelRequestsPerSecond: number) =>
      chooseEndpointHardware(
        input({ serving: { ...CHEAP, cpuMsPerRequest: 10, p99CpuMsPerRequest: 20 }, modelRequestsPerSecond }),
      );
    // WHEN 1,000 requests/s reach it THEN 1000 / (200 x 70%) = 7.1 -> 8 instances of 2 vCPUs, or 4 of 4
    const busy = slow(1000);
    expect(busy.maxInstances * busy.workersPerInstance).toBeGreaterThanOrEqual(
      Math.ceil(1000 / (100 * ENDPOINT_TARGET_UTILISATION)),
    );
    expect(busy.instanceType).toBe('ml.c6i.large');
    expect(busy.maxInstances).toBe(8);
    expect(busy.monthlyUsd.peak).toBeCloseTo(2 * 8 * 0.102 * HOURS, 2);
    // AND twice the load takes about twice the instances, never fewer than the minimum
    expect(slow(2000).maxInstances).toBe(15);
    expect(slow(1).maxInstances).toBe(2);
  });

  test('a model slower than the budget on a CPU gets a GPU, where it scores on one', () => {
    // GIVEN 120 ms at p99 on a CPU, 8 ms on a GPU
    const choice = chooseEndpointHardware(
      input({
        serving: {
          cpuMsPerRequest: 90,
          p99CpuMsPerRequest: 120,
          memoryMb: 2000,
          gpu: { msPerRequest: 5, p99MsPerRequest: 8, memoryMb: 3000 },
          measuredWith: 'npm run fixture:serving-cost -- --device cuda',
        },
      }),
    );
    // THEN the cheaper GPU instance, one worker on its GPU
    expect(choice).toMatchObject({
      instanceType: 'ml.g4dn.xlarge',
      gpus: 1,
      workersPerInstance: 1,
      meetsLatency: true,
    });
    expect(choice.instanceRequestsPerSecond).toBe(200);
    expect(choice.why).toMatch(/no CPU instance answers within 75 ms/);
    expect(choice.rejected.find((r) => r.instanceType === 'ml.c6i.large')?.why).toMatch(
      /p99 120 ms is over the 75 ms budget/,
    );
  });

  test('a GPU does not help a handler that scores on the CPU: it says so', () => {
    const choice = chooseEndpointHardware(
      input({ serving: { ...CHEAP, cpuMsPerRequest: 60, p99CpuMsPerRequest: 90 } }),
    );
    expect(choice.meetsLatency).toBe(false);
    expect(choice.rejected.find((r) => r.instanceType === 'ml.g5.xlarge')?.why).toMatch(
      /the handler scores on the CPU, the GPU would idle/,
    );
  });

  test('a model that answers after the serving timeout is held at the minimum, flagged, not scaled out', () => {
    // GIVEN a typical answer of 900 ms, after the function's 200 ms timeout, and 3.1 GB a worker
    const choice = chooseEndpointHardware(
      input({ serving: { ...CHEAP, cpuMsPerRequest: 900, p99CpuMsPerRequest: 1400, memoryMb: 3100 } }),
    );
    // THEN the cheapest instance that holds a worker, at the minimum: more would answer no one in time
    expect(choice).toMatchObject({
      instanceType: 'ml.m7i.large',
      workersPerInstance: 2,
      meetsLatency: false,
      minInstances: 2,
      maxInstances: 2,
    });
    expect(choice.monthlyUsd.peak).toBe(choice.monthlyUsd.idle);
    expect(choice.why).toMatch(/comes after the serving function's 200 ms timeout/);
    expect(choice.rejected.find((r) => r.instanceType === 'ml.c6i.large')?.why).toBe(
      'cannot hold one worker of 3100 MB (3072 MB free)',
    );
  });

  test('an instance runs as many workers as its memory holds: every worker loads its own copy', () => {
    // GIVEN 2 GB a worker: a 4 GiB instance holds one, not two
    const choice = chooseEndpointHardware(input({ serving: { ...CHEAP, memoryMb: 2000 } }));
    expect(choice).toMatchObject({
      instanceType: 'ml.c6i.large',
      workersPerInstance: 1,
      instanceRequestsPerSecond: 500,
    });
    // AND the same model on a 16 GiB GPU instance still runs one worker per GPU
    expect(choice.gpuBaseline.workersPerInstance).toBe(1);
    // AND at 5 GB only the larger instances hold one at all
    const large = chooseEndpointHardware(input({ serving: { ...CHEAP, memoryMb: 5000 } }));
    expect(large).toMatchObject({ instanceType: 'ml.m7i.large', workersPerInstance: 1 });
    expect(large.rejected.find((r) => r.instanceType === 'ml.c7i.large')?.why).toBe(
      'cannot hold one worker of 5000 MB (3072 MB free)',
    );
  });

  test('a model no candidate can hold is refused, naming the field', () => {
    expect(() => chooseEndpointHardware(input({ serving: { ...CHEAP, memoryMb: 64_000 } }))).toThrow(
      /serving\.memoryMb: no candidate instance .* holds one worker of 64000 MB/,
    );
  });

  test('bad input is one error naming each field', () => {
    const bad = () =>
      chooseEndpointHardware(
        input({
          serving: { cpuMsPerRequest: -1, p99CpuMsPerRequest: Number.NaN, memoryMb: 0, measuredWith: ' ' },
          modelRequestsPerSecond: 0,
          minInstances: 1.5,
          candidates: ['ml.c6i.large', 'ml.z9.large' as never],
        }),
      );
    expect(bad).toThrow(ConfigError);
    let message = '';
    try {
      bad();
    } catch (error) {
      message = (error as ConfigError).message;
      expect((error as ConfigError).problems).toHaveLength(7);
    }
    for (const field of [
      'serving.cpuMsPerRequest: must be a number in',
      'serving.p99CpuMsPerRequest: must be a number in',
      'serving.memoryMb: must be a number in',
      'serving.measuredWith: must name the command',
      'modelRequestsPerSecond: must be a number in',
      'minInstances: must be an integer',
      'candidates: ml.z9.large is not in lib/platform/pricing/sagemaker-instances.ts',
    ]) {
      expect(message).toContain(field);
    }
  });

  test('the GPU baseline is the same load on ml.g5.xlarge, one worker per GPU', () => {
    const choice = chooseEndpointHardware(input({ modelRequestsPerSecond: 2000 }));
    expect(choice.gpuBaseline).toMatchObject({
      instanceType: GPU_BASELINE_INSTANCE,
      workersPerInstance: 1,
      instanceRequestsPerSecond: 500,
      maxInstances: 6,
      meetsLatency: true,
    });
    const g5 = SAGEMAKER_INSTANCES['ml.g5.xlarge'].hosting;
    expect(choice.gpuBaseline.monthlyUsd.idle).toBeCloseTo(4 * g5 * HOURS, 2);
  });
});

describe('production hosting of the registered designs', () => {
  test.each(Object.keys(DESIGNS))(
    '%s: chosen from its measured cost, cheaper than the GPU baseline',
    (id) => {
      const { capacity, design } = resolveAppConfig({ design: id, profile: 'production' }, DESIGNS);
      const hardware = capacity.endpointHardware!;
      expect(design.model.serving?.measuredWith).toMatch(/^npm run .*serving-cost/);
      expect(hardware.minInstances).toBe(2);
      expect(hardware.monthlyUsd.idle).toBeLessThan(hardware.gpuBaseline.monthlyUsd.idle);
      expect(hardware.monthlyUsd.peak).toBeLessThanOrEqual(hardware.gpuBaseline.monthlyUsd.peak);
      // The scaling the endpoint gets is the choice's.
      expect(capacity.endpointScaling).toEqual({
        instanceType: hardware.instanceType,
        minInstances: hardware.minInstances,
        maxInstances: hardware.maxInstances,
        targetInvocationsPerInstancePerMinute: Math.max(
          1,
          Math.round(hardware.instanceRequestsPerSecond * 60 * ENDPOINT_TARGET_UTILISATION),
        ),
        workersPerInstance: hardware.workersPerInstance,
      });
    },
  );

  test.each(Object.keys(DESIGNS))('%s is served by CPU instances, none idle on a GPU', (id) => {
    const hardware = resolveAppConfig({ design: id, profile: 'production' }, DESIGNS).capacity
      .endpointHardware!;
    expect(hardware.gpus).toBe(0);
    expect(hardware.monthlyUsd.idle).toBeLessThan(hardware.gpuBaseline.monthlyUsd.idle);
  });

  test('the sandbox stays serverless: no hardware is chosen', () => {
    for (const id of Object.keys(DESIGNS)) {
      const { capacity } = resolveAppConfig({ design: id, profile: 'sandbox' }, DESIGNS);
      expect(capacity.endpointHardware).toBeUndefined();
      expect(capacity.endpointScaling).toBeUndefined();
    }
  });

  test('production refuses a design without a measured serving cost, naming the field', () => {
    const unmeasured = { ...feedRanking, model: { ...feedRanking.model, serving: undefined } };
    expect(() =>
      resolveAppConfig({ design: unmeasured.id, profile: 'production' }, { [unmeasured.id]: unmeasured }),
    ).toThrow(/feed-ranking\.model\.serving: the production profile hosts the endpoint on instances/);
    expect(() => deriveCapacity(FIXTURE_REQUIREMENTS, PROFILES.production, unmeasured)).toThrow(
      /model\.serving/,
    );
    // The sandbox needs none.
    expect(
      resolveAppConfig({ design: unmeasured.id, profile: 'sandbox' }, { [unmeasured.id]: unmeasured })
        .capacity.endpointHardware,
    ).toBeUndefined();
  });

  test('a bad recorded measurement is reported with the design’s other problems', () => {
    const bad = { ...feedRanking, model: { ...feedRanking.model, serving: { ...CHEAP, memoryMb: -5 } } };
    expect(() => resolveAppConfig({ design: bad.id, profile: 'sandbox' }, { [bad.id]: bad })).toThrow(
      /feed-ranking\.model\.serving\.memoryMb: must be a number in/,
    );
  });
});
