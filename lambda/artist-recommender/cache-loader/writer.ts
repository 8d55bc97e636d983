import type { Cluster } from 'iovalkey';
import { keySlot } from './slots';

export interface PipelinedWriterOptions {
  /** Commands buffered before they are sent, over all nodes. */
  readonly batchSize: number;
  /** Batches sent and not yet answered; bounds memory and the load on the cache. */
  readonly maxInFlight: number;
}

/**
 * Writes keys with pipelined SETs in bounded batches. A cluster client only takes a pipeline whose
 * keys are served by one node, and a version's keys spread over every slot, so each batch is split
 * by the node group (master and replicas) that serves each key's slot, the same grouping the client
 * checks. A slot whose owner the client does not know yet forms its own group, which the client then
 * routes or rejects.
 *
 * A failed command fails the whole load: the first error is kept and thrown by the next `set` or by
 * `close`, and nothing is swapped.
 */
export class PipelinedWriter {
  private readonly pending = new Map<string, string[]>();
  private pendingCount = 0;
  private inFlight: Promise<void>[] = [];
  private failure: unknown;
  private written = 0;

  constructor(
    private readonly client: Cluster,
    private readonly options: PipelinedWriterOptions,
  ) {}

  /** Commands acknowledged by the cache so far. */
  get acknowledged(): number {
    return this.written;
  }

  /** Queues one SET; resolves once it is queued, waiting when too many batches are unanswered. */
  async set(key: string, value: string): Promise<void> {
    this.throwIfFailed();
    const group = this.groupOf(key);
    let args = this.pending.get(group);
    if (!args) {
      args = [];
      this.pending.set(group, args);
    }
    args.push(key, value);
    if (++this.pendingCount >= this.options.batchSize) await this.flush();
  }

  /** Sends what is queued and waits for every answer. */
  async close(): Promise<void> {
    await this.flush();
    await Promise.all(this.inFlight);
    this.inFlight = [];
    this.throwIfFailed();
  }

  private async flush(): Promise<void> {
    if (this.pendingCount === 0) return;
    const sent: Promise<void>[] = [];
    for (const args of this.pending.values()) sent.push(this.send(args));
    this.inFlight.push(Promise.all(sent).then(() => undefined));
    this.pending.clear();
    this.pendingCount = 0;
    while (this.inFlight.length > this.options.maxInFlight) await this.inFlight.shift();
    this.throwIfFailed();
  }

  /** One node's share of a batch; resolves either way, keeping the first failure. */
  private async send(args: string[]): Promise<void> {
    const pipeline = this.client.pipeline();
    for (let i = 0; i < args.length; i += 2) pipeline.set(args[i], args[i + 1]);
    try {
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error('the pipeline returned no results');
      this.written += args.length / 2;
    } catch (error) {
      this.failure ??= error;
    }
  }

  private groupOf(key: string): string {
    const nodes = this.client.slots[keySlot(key)];
    return nodes ? nodes.join(';') : '';
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
