/**
 * Snapshot serializer that masks asset hashes (64 hex characters, alone or inside an S3 key), so a
 * whole-template snapshot changes when the template changes, not when a bundled file does.
 */
const HAS_ASSET_HASH = /[0-9a-f]{64}/;
const ASSET_HASHES = /[0-9a-f]{64}/g;

module.exports = {
  test: (value: unknown) => typeof value === 'string' && HAS_ASSET_HASH.test(value),
  serialize: (value: string) => JSON.stringify(value.replace(ASSET_HASHES, '[ASSET HASH]')),
};
