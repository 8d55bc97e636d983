import {
  assertValidRequest,
  loadServiceModel,
  outputMembers,
  pinnedServices,
  translateJavaPattern,
  validateRequest,
  type ApiModelProblem,
} from '../support/aws-api-model';

const ROLE = 'arn:aws:iam::123456789012:role/SageMakerExecution';

/** A request SageMaker accepts: every required member, nested structures, maps and lists. */
function trainingJob(): Record<string, unknown> {
  return {
    TrainingJobName: 'feed-ranking-2024-05-01-12-00-00',
    RoleArn: ROLE,
    AlgorithmSpecification: {
      TrainingImage: '763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.3-cpu-py311',
      TrainingInputMode: 'File',
      MetricDefinitions: [{ Name: 'validation:recall_at_k', Regex: 'metric: recall_at_k=([0-9.]+)' }],
    },
    HyperParameters: { epochs: '20', 'factors.dim': '64' },
    InputDataConfig: [
      {
        ChannelName: 'train',
        DataSource: {
          S3DataSource: {
            S3DataType: 'S3Prefix',
            S3Uri: 's3://artefacts-bucket/snapshots/train/',
            S3DataDistributionType: 'FullyReplicated',
          },
        },
        ContentType: 'application/jsonlines',
      },
    ],
    OutputDataConfig: { S3OutputPath: 's3://artefacts-bucket/models/' },
    ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    EnableManagedSpotTraining: false,
    Tags: [{ Key: 'design', Value: 'feed-ranking' }],
  };
}

function endpointConfig(variant: Record<string, unknown>): Record<string, unknown> {
  return { EndpointConfigName: 'recommender-v2', ProductionVariants: [variant] };
}

const paths = (problems: ApiModelProblem[]) => problems.map((p) => p.path);

describe('validateRequest against the pinned botocore models', () => {
  test('a correct SageMaker CreateTrainingJob request has no problems', () => {
    expect(validateRequest('sagemaker', 'CreateTrainingJob', trainingJob())).toEqual([]);
  });

  test('CustomerMetadataProperties values with ; and quote break the model pattern, each reported by key', () => {
    // GIVEN values outside [\p{L}\p{Z}\p{N}_.:/=+\-@]
    const input = {
      ModelPackageGroupName: 'feed-ranking',
      CustomerMetadataProperties: { gate: 'passed; recall=0.31', note: "champion's data", ok: 'recall=0.31' },
    };
    // WHEN
    const problems = validateRequest('sagemaker', 'CreateModelPackage', input);
    // THEN
    expect(paths(problems)).toEqual([
      'CustomerMetadataProperties["gate"]',
      'CustomerMetadataProperties["note"]',
    ]);
    expect(problems[0]!.message).toMatch(/does not match the pattern .* of CustomerMetadataValue/);
    expect(
      validateRequest('sagemaker', 'CreateModelPackage', {
        ModelPackageGroupName: 'feed-ranking',
        CustomerMetadataProperties: { gate: 'passed recall=0.31' },
      }),
    ).toEqual([]);
  });

  test('UpdateEndpoint with a camelCase DeploymentConfig member names the PascalCase one', () => {
    const problems = validateRequest('sagemaker', 'UpdateEndpoint', {
      EndpointName: 'recommender',
      EndpointConfigName: 'recommender-v2',
      DeploymentConfig: {
        blueGreenUpdatePolicy: {
          TrafficRoutingConfiguration: { Type: 'ALL_AT_ONCE', WaitIntervalInSeconds: 0 },
        },
      },
    });
    expect(problems).toEqual([
      {
        path: 'DeploymentConfig.blueGreenUpdatePolicy',
        message: expect.stringContaining('did you mean "BlueGreenUpdatePolicy"?'),
      },
    ]);
  });

  test('an unknown member that is not a casing slip lists the members of the shape', () => {
    const [problem] = validateRequest('sagemaker-runtime', 'InvokeEndpoint', {
      EndpointName: 'recommender',
      Body: '{}',
      Variant: 'champion',
    });
    expect(problem).toEqual({
      path: 'Variant',
      message: expect.stringMatching(/its members are: .*TargetVariant/),
    });
  });

  test('a missing required member is reported at its path, top level and nested', () => {
    const input = trainingJob();
    delete input.RoleArn;
    delete (input.AlgorithmSpecification as Record<string, unknown>).TrainingInputMode;
    (input.InputDataConfig as Record<string, unknown>[])[0]!.DataSource = {
      S3DataSource: { S3DataType: 'S3Prefix' },
    };
    expect(validateRequest('sagemaker', 'CreateTrainingJob', input)).toEqual([
      {
        path: 'AlgorithmSpecification.TrainingInputMode',
        message: 'required member of AlgorithmSpecification is missing',
      },
      {
        path: 'InputDataConfig[0].DataSource.S3DataSource.S3Uri',
        message: expect.stringContaining('missing'),
      },
      { path: 'RoleArn', message: 'required member of CreateTrainingJobRequest is missing' },
    ]);
  });

  test('Firehose PutRecordBatch over its 500 records is rejected, 500 pass', () => {
    const records = (n: number) => Array.from({ length: n }, () => ({ Data: Buffer.from('{"e":1}\n') }));
    expect(
      validateRequest('firehose', 'PutRecordBatch', { DeliveryStreamName: 'events', Records: records(500) }),
    ).toEqual([]);
    expect(
      validateRequest('firehose', 'PutRecordBatch', { DeliveryStreamName: 'events', Records: records(501) }),
    ).toEqual([
      { path: 'Records', message: '501 items is above the maximum 500 of PutRecordBatchRequestEntryList' },
    ]);
    expect(
      validateRequest('firehose', 'PutRecordBatch', { DeliveryStreamName: 'events', Records: [] }),
    ).toEqual([
      { path: 'Records', message: '0 items is below the minimum 1 of PutRecordBatchRequestEntryList' },
    ]);
  });

  test('a blob is measured in bytes: a Firehose record over 1,000 KiB is rejected', () => {
    const problems = validateRequest('firehose', 'PutRecordBatch', {
      DeliveryStreamName: 'events',
      Records: [{ Data: 'é'.repeat(512_001) }], // 1,024,002 bytes in UTF-8
    });
    expect(problems).toEqual([
      { path: 'Records[0].Data', message: '1024002 bytes is above the maximum 1024000 of Data' },
    ]);
  });

  test('integer ranges are checked, with the nested list path in the problem', () => {
    const variant = (memory: unknown) =>
      endpointConfig({
        VariantName: 'champion',
        ModelName: 'm',
        ServerlessConfig: { MemorySizeInMB: memory, MaxConcurrency: 5 },
      });
    expect(validateRequest('sagemaker', 'CreateEndpointConfig', variant(6144))).toEqual([]);
    expect(validateRequest('sagemaker', 'CreateEndpointConfig', variant(512))).toEqual([
      {
        path: 'ProductionVariants[0].ServerlessConfig.MemorySizeInMB',
        message: '512 is below the minimum 1024 of ServerlessMemorySizeInMB',
      },
    ]);
    expect(paths(validateRequest('sagemaker', 'CreateEndpointConfig', variant(6145)))).toEqual([
      'ProductionVariants[0].ServerlessConfig.MemorySizeInMB',
    ]);
    expect(validateRequest('sagemaker', 'CreateEndpointConfig', variant(2048.5))[0]!.message).toMatch(
      /expected a 32-bit integer .* got number 2048.5/,
    );
    expect(validateRequest('sagemaker', 'CreateEndpointConfig', variant(2 ** 31))[0]!.message).toMatch(
      /expected a 32-bit integer/,
    );
    expect(validateRequest('sagemaker', 'CreateEndpointConfig', variant('2048'))[0]!.message).toMatch(
      /expected a 32-bit integer .* got the string "2048"/,
    );
  });

  test('an enum value outside the model is rejected, with a hint when only the case differs', () => {
    const variant = (type: string) =>
      endpointConfig({ VariantName: 'champion', ModelName: 'm', InstanceType: type });
    expect(validateRequest('sagemaker', 'CreateEndpointConfig', variant('ml.m5.large'))).toEqual([]);
    expect(validateRequest('sagemaker', 'CreateEndpointConfig', variant('ml.m5.huge'))).toEqual([
      {
        path: 'ProductionVariants[0].InstanceType',
        message: expect.stringMatching(
          /^"ml.m5.huge" is not a value of the enum ProductionVariantInstanceType: ml\./,
        ),
      },
    ]);
    expect(
      validateRequest('sagemaker', 'CreateEndpointConfig', variant('ML.M5.LARGE'))[0]!.message,
    ).toContain('did you mean "ml.m5.large"?');
  });

  test('string lengths count code points, as Smithy does, not UTF-16 units', () => {
    // U+1D49C is one letter (\p{L}) and two UTF-16 units; CustomerMetadataKey allows 128.
    const input = (n: number) => ({
      ModelPackageGroupName: 'g',
      CustomerMetadataProperties: { ['\u{1D49C}'.repeat(n)]: 'v' },
    });
    expect(validateRequest('sagemaker', 'CreateModelPackage', input(128))).toEqual([]);
    expect(validateRequest('sagemaker', 'CreateModelPackage', input(129))).toEqual([
      {
        path: `CustomerMetadataProperties[${JSON.stringify('\u{1D49C}'.repeat(129))}] (key)`,
        message: '129 characters is above the maximum 128 of CustomerMetadataKey',
      },
    ]);
  });

  test('a pattern must match the whole value: an underscore in a training job name is rejected', () => {
    // TrainingJobName's pattern is [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}: a prefix of the name matches it.
    const input = { ...trainingJob(), TrainingJobName: 'feed_ranking' };
    expect(validateRequest('sagemaker', 'CreateTrainingJob', input)).toEqual([
      {
        path: 'TrainingJobName',
        message:
          '"feed_ranking" does not match the pattern [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62} of TrainingJobName',
      },
    ]);
  });

  test('each type is checked: structure, list, map, string, long, double, boolean', () => {
    const problems = validateRequest('sagemaker', 'CreateTrainingJob', {
      ...trainingJob(),
      AlgorithmSpecification: 'pytorch',
      InputDataConfig: { ChannelName: 'train' },
      HyperParameters: [['epochs', '20']],
      TrainingJobName: 42,
      EnableManagedSpotTraining: 'false',
    });
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'TrainingJobName: expected a string (shape TrainingJobName), got number 42',
      'AlgorithmSpecification: expected an object (shape AlgorithmSpecification), got the string "pytorch"',
      'HyperParameters: expected an object (a map) (shape HyperParameters), got an array',
      'InputDataConfig: expected an array (shape InputDataConfig), got an object',
      'EnableManagedSpotTraining: expected a boolean (shape Boolean), got the string "false"',
    ]);
    // logs GetLogEvents startTime is a long; CloudWatch GetMetricData's Period an integer, Value a double.
    expect(
      validateRequest('logs', 'GetLogEvents', { logStreamName: 's', logGroupName: 'g', startTime: 1.5 })[0]!
        .message,
    ).toMatch(/expected a 64-bit integer \(shape Timestamp\)/);
    expect(
      validateRequest('cloudwatch', 'PutMetricData', {
        Namespace: 'Recommender',
        MetricData: [{ MetricName: 'Latency', Value: '12' }],
      }),
    ).toEqual([{ path: 'MetricData[0].Value', message: expect.stringMatching(/expected a number/) }]);
  });

  test('a timestamp takes a Date, an ISO 8601 string or a number, nothing else', () => {
    const list = (after: unknown) =>
      validateRequest('sagemaker', 'ListTrainingJobs', { CreationTimeAfter: after });
    expect(list(new Date('2024-05-01T00:00:00Z'))).toEqual([]);
    expect(list('2024-05-01T00:00:00Z')).toEqual([]);
    expect(list(1714521600)).toEqual([]);
    expect(list('yesterday')[0]!.message).toMatch(/expected a Date, an ISO 8601 string or epoch seconds/);
    expect(list(new Date('not a date'))[0]!.message).toMatch(/invalid Date/);
  });

  test('a blob takes a string, a Buffer or a Uint8Array; a sensitive value is not echoed', () => {
    const invoke = (body: unknown) =>
      validateRequest('sagemaker-runtime', 'InvokeEndpoint', { EndpointName: 'recommender', Body: body });
    expect(invoke('{"user_id":"u1"}')).toEqual([]);
    expect(invoke(Buffer.from('{}'))).toEqual([]);
    expect(invoke(new TextEncoder().encode('{}'))).toEqual([]);
    expect(invoke({ user_id: 'u1' })).toEqual([
      { path: 'Body', message: 'expected a string, Buffer or Uint8Array (shape BodyBlob), got an object' },
    ]);
    // SecretString is sensitive: the problem gives its length, never the value.
    const [problem] = validateRequest('secretsmanager', 'PutSecretValue', {
      SecretId: 'db',
      SecretString: 'x'.repeat(65537),
    });
    expect(problem!.message).not.toContain('xxxx');
  });

  test('null is refused, undefined is left out as the SDK does', () => {
    expect(
      validateRequest('sagemaker-runtime', 'InvokeEndpoint', {
        EndpointName: 'r',
        Body: '{}',
        TargetVariant: undefined,
      }),
    ).toEqual([]);
    expect(
      validateRequest('sagemaker-runtime', 'InvokeEndpoint', {
        EndpointName: 'r',
        Body: '{}',
        TargetVariant: null,
      }),
    ).toEqual([{ path: 'TargetVariant', message: expect.stringContaining('null is not a value') }]);
    expect(
      paths(validateRequest('sagemaker-runtime', 'InvokeEndpoint', { EndpointName: undefined, Body: '{}' })),
    ).toEqual(['EndpointName']);
  });

  test('a union needs exactly one member', () => {
    const cluster = (storage: unknown) => ({
      ClusterName: 'hyperpod',
      InstanceGroups: [
        {
          InstanceGroupName: 'workers',
          InstanceCount: 1,
          ExecutionRole: ROLE,
          InstanceStorageConfigs: [storage],
        },
      ],
    });
    expect(
      validateRequest('sagemaker', 'CreateCluster', cluster({ EbsVolumeConfig: { VolumeSizeInGB: 100 } })),
    ).toEqual([]);
    expect(
      validateRequest(
        'sagemaker',
        'CreateCluster',
        cluster({
          EbsVolumeConfig: { VolumeSizeInGB: 100 },
          FsxLustreConfig: {
            DnsName: 'fs-0123456789abcdef0.fsx.eu-west-1.amazonaws.com',
            MountName: 'abcdefgh',
          },
        }),
      )[0],
    ).toEqual({
      path: 'InstanceGroups[0].InstanceStorageConfigs[0]',
      message: expect.stringContaining('exactly one member must be set, got 2'),
    });
    expect(validateRequest('sagemaker', 'CreateCluster', cluster({}))[0]!.message).toMatch(/got 0/);
  });

  test('an unknown service or operation is a problem, with a hint for the operation casing', () => {
    expect(validateRequest('sagemaker-edge', 'SendHeartbeat', {})).toEqual([
      {
        path: '',
        message: expect.stringMatching(/no pinned API model for service "sagemaker-edge".*sagemaker-runtime/),
      },
    ]);
    expect(validateRequest('sagemaker', 'createModel', {})).toEqual([
      {
        path: '',
        message: expect.stringContaining('has no operation "createModel"; did you mean "CreateModel"?'),
      },
    ]);
    expect(validateRequest('sagemaker', 'CreateModels', {})[0]!.message).not.toContain('did you mean');
  });

  test('an operation without input accepts no members', () => {
    // SageMaker GetSagemakerServicecatalogPortfolioStatus takes an empty input shape; S3 ListBuckets has input.
    const noInput = Object.entries(loadServiceModel('sns').operations).find(([, op]) => !op.input);
    if (noInput) {
      expect(validateRequest('sns', noInput[0], undefined)).toEqual([]);
      expect(validateRequest('sns', noInput[0], { Anything: 1 })).toHaveLength(1);
    }
    expect(validateRequest('s3', 'ListBuckets', undefined)).toEqual([]);
  });

  describe('Step Functions task Parameters ({ jsonPath: true })', () => {
    const parameters = {
      'TrainingJobName.$': "States.Format('recommender-{}', $$.Execution.Name)",
      RoleArn: ROLE,
      AlgorithmSpecification: { TrainingImage: 'image', TrainingInputMode: 'File' },
      HyperParameters: { 'epochs.$': '$.epochs', k: '10' },
      OutputDataConfig: { 'S3OutputPath.$': '$.outputPath' },
      ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    };

    test('a .$ key counts as its member, present for required, its value unchecked', () => {
      expect(validateRequest('sagemaker', 'CreateTrainingJob', parameters, { jsonPath: true })).toEqual([]);
    });

    test('the member name of a .$ key is still checked, with its casing', () => {
      const problems = validateRequest(
        'sagemaker',
        'CreateTrainingJob',
        { ...parameters, 'TrainingJobName.$': undefined, 'trainingJobName.$': '$.name' },
        { jsonPath: true },
      );
      expect(problems).toEqual([
        { path: 'trainingJobName', message: expect.stringContaining('did you mean "TrainingJobName"?') },
        { path: 'TrainingJobName', message: 'required member of CreateTrainingJobRequest is missing' },
      ]);
    });

    test('a .$ key must hold a string', () => {
      const problems = validateRequest(
        'sagemaker',
        'CreateTrainingJob',
        { ...parameters, 'TrainingJobName.$': 42 },
        { jsonPath: true },
      );
      expect(problems).toEqual([
        { path: 'TrainingJobName.$', message: expect.stringContaining('got number 42') },
      ]);
    });

    test('without the option a .$ key is an error', () => {
      const problems = validateRequest('sagemaker', 'CreateTrainingJob', parameters);
      expect(paths(problems)).toEqual([
        'TrainingJobName.$',
        'OutputDataConfig.S3OutputPath.$',
        'OutputDataConfig.S3OutputPath',
        'TrainingJobName',
      ]);
      expect(problems[0]!.message).toContain('Step Functions JSONPath key');
    });
  });

  test('a pattern that cannot be translated is reported, not skipped', () => {
    const shape = loadServiceModel('sagemaker').shapes.TrainingJobName!;
    const original = shape.pattern;
    shape.pattern = '(?i)[a-z]+';
    try {
      expect(validateRequest('sagemaker', 'CreateTrainingJob', trainingJob())).toEqual([
        {
          path: 'TrainingJobName',
          message: expect.stringMatching(
            /the pattern \(\?i\)\[a-z\]\+ of TrainingJobName cannot be checked .*inline flags/,
          ),
        },
      ]);
    } finally {
      shape.pattern = original;
    }
  });

  test('every pattern of every pinned model translates to a JavaScript RegExp', () => {
    const untranslated: string[] = [];
    for (const service of pinnedServices()) {
      for (const [name, shape] of Object.entries(loadServiceModel(service).shapes)) {
        if (typeof shape.pattern !== 'string') continue;
        const t = translateJavaPattern(shape.pattern);
        if ('error' in t) untranslated.push(`${service} ${name}: ${t.error}`);
      }
    }
    expect(untranslated).toEqual([]);
  });
});

describe('assertValidRequest', () => {
  test('throws one error naming the service, operation and each member path', () => {
    expect(() =>
      assertValidRequest('sagemaker-runtime', 'InvokeEndpoint', { endpointName: 'r', Body: 1 }),
    ).toThrow(
      new Error(
        'sagemaker-runtime InvokeEndpoint request does not match the API model (3 problems):\n' +
          '  endpointName: unknown member "endpointName" of InvokeEndpointInput; did you mean "EndpointName"? (member names are case-sensitive)\n' +
          '  Body: expected a string, Buffer or Uint8Array (shape BodyBlob), got number 1\n' +
          '  EndpointName: required member of InvokeEndpointInput is missing',
      ),
    );
  });

  test('returns quietly for a valid request', () => {
    expect(() => assertValidRequest('sagemaker', 'CreateTrainingJob', trainingJob())).not.toThrow();
  });
});

describe('outputMembers', () => {
  test('lists the output shape members of an operation', () => {
    expect(outputMembers('sagemaker-runtime', 'InvokeEndpoint')).toEqual(
      expect.arrayContaining(['Body', 'ContentType', 'InvokedProductionVariant']),
    );
    expect(outputMembers('firehose', 'PutRecordBatch')).toEqual([
      'FailedPutCount',
      'Encrypted',
      'RequestResponses',
    ]);
  });

  test('throws a clear error for an unknown operation', () => {
    expect(() => outputMembers('firehose', 'putRecordBatch')).toThrow(/did you mean "PutRecordBatch"/);
  });
});
