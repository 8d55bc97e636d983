import { startRedisCluster } from './redis-cluster';

describe('startRedisCluster', () => {
  it('fails with a clear message when redis-server cannot be run', async () => {
    await expect(startRedisCluster({ binary: '/nonexistent/redis-server' })).rejects.toThrow(
      /redis-server is required for the serving tests.*apt-get install -y redis-server/,
    );
  });
});
