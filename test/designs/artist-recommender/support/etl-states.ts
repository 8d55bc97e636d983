/** The ETL state machine's top-level states in order, per feature engine (lib/platform/constructs/data/etl-pipeline.ts). */
export const ETL_STATES = {
  postgres: [
    'PlanRun',
    'Migrate',
    'TransformDay',
    'BuildFeatures',
    'ExportSnapshot',
    'IngestFeatures',
    'NotifyDone',
  ],
  lake: [
    'PlanRun',
    'Migrate',
    'PlanLakeTables',
    'LakeTables',
    'TransformDay',
    'PlanLakeQueries',
    'LoadLake',
    'BuildFeatures',
    'LakeOutputs',
    'ExportSnapshot',
    'IngestFeatures',
    'NotifyDone',
  ],
} as const;
