import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Logger } from '@backbone/bootstrap';
import { CONSUMER_GROUP_TIMING, RestartBackoff, superviseCrashes } from '@backbone/kafka';
import { ANCHOR_READER_GROUP_PREFIX, AnchorsUnreadableError, type Anchor } from '@backbone/ledger';

export interface AnchorFollowerOptions {
  kafka: Kafka;
  /** The (one-partition) checkpoints topic. */
  topic: string;
  /** Which anchors to keep in memory (this ledger's); the others on the shared topic are dropped as they are read. */
  keep: (anchor: Anchor) => boolean;
  logger: Logger;
  /** How long one read may take (end offset plus catching up to it) before verify reports the anchors unread. */
  readTimeoutMs?: number;
}

interface Waiter {
  target: bigint;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** 30 s: about what KafkaJS's own retries (createKafka: 8, from 200 ms) spend before a request fails. */
export const DEFAULT_ANCHOR_READ_TIMEOUT_MS = 30_000;

/**
 * Follows the checkpoints topic for the life of the process and keeps the anchors in memory, so a
 * verify costs one ListOffsets round trip on an admin that stays connected instead of a new
 * admin, a new consumer and a group join (82-353 ms a request, docs/performance.md).
 *
 * Group: KafkaJS has no assign-style consumer, so the follower joins a group of its own, named
 * once per follower (per process start) under the reader prefix the ACLs grant, and never commits:
 * every start, and every restart after a crash, reads the topic from the beginning (anchors are
 * small, one per checkpoint) and records already held are skipped by offset. A fixed name would
 * let two loggers share partitions; a name per read (as before) cost the group join every verify.
 *
 * Its own consumer and group, independent of the ingest: a stalled ingest never holds verify back.
 */
export class AnchorFollower {
  readonly groupId = `${ANCHOR_READER_GROUP_PREFIX}${randomUUID()}`;
  private readonly readTimeoutMs: number;
  private readonly backoff = new RestartBackoff();
  private admin: Admin | undefined;
  private adminConnecting: Promise<Admin> | undefined;
  private consumer: Consumer | undefined;
  private following: Promise<void> | undefined;
  private stopped = false;
  /** The kept anchors with their offsets, in offset order. */
  private held: { offset: bigint; anchor: Anchor }[] = [];
  /** The offset after the last record consumed. */
  private next = 0n;
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly opts: AnchorFollowerOptions) {
    this.readTimeoutMs = opts.readTimeoutMs ?? DEFAULT_ANCHOR_READ_TIMEOUT_MS;
  }

  /** Connects the admin and, when the topic exists already, starts following it; a later read retries whatever failed here. */
  async start(): Promise<void> {
    try {
      const admin = await this.connectedAdmin();
      if ((await admin.listTopics()).includes(this.opts.topic)) await this.follow();
    } catch (err) {
      this.opts.logger.warn({ err, topic: this.opts.topic }, 'anchor follower not started; the next verify tries again');
    }
  }

  /**
   * The kept anchors up to the topic's current end. `onExtent` is called as soon as that end is
   * fixed (or reading it failed), before waiting for the records: what is compared with the
   * anchors must be read after it (VerifyOptions.checkpointsAfter). Only anchors below that end
   * are returned: one published later may name a checkpoint row verify has not read.
   */
  async read(onExtent?: () => void): Promise<Anchor[]> {
    const deadline = Date.now() + this.readTimeoutMs;
    let end: bigint;
    try {
      end = await beforeDeadline(this.endOffset(), deadline, 'its end offset');
    } catch (err) {
      throw new AnchorsUnreadableError(this.opts.topic, err);
    } finally {
      onExtent?.();
    }
    if (end < this.next) {
      // The end went back below what was read: the topic was deleted and recreated. Its old anchors are gone from it.
      this.opts.logger.warn(
        { topic: this.opts.topic, end: String(end), read: String(this.next) },
        'anchor topic recreated; reading it again',
      );
      await this.stopFollowing();
      this.held = [];
      this.next = 0n;
    }
    if (end > this.next) {
      try {
        await beforeDeadline(this.caughtUpTo(end), deadline, `its records up to offset ${end}`);
      } catch (err) {
        throw new AnchorsUnreadableError(this.opts.topic, err);
      }
    }
    return this.held.filter((h) => h.offset < end).map((h) => h.anchor);
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const w of this.waiters) w.reject(new Error('the audit logger is shutting down'));
    this.waiters.clear();
    await this.stopFollowing();
    const admin = this.admin;
    this.admin = undefined;
    this.adminConnecting = undefined;
    await admin?.disconnect().catch((err: unknown) => this.opts.logger.warn({ err }, 'anchor admin disconnect failed'));
  }

  private async endOffset(): Promise<bigint> {
    const admin = await this.connectedAdmin();
    try {
      // Until it is followed, the topic may not exist: a missing one is answered at once this way
      // (fetchTopicOffsets would retry it for tens of seconds). Once followed, one ListOffsets.
      if (!this.following && !(await admin.listTopics()).includes(this.opts.topic)) throw new Error('the topic does not exist');
      const offsets = await admin.fetchTopicOffsets(this.opts.topic);
      return offsets.reduce((max, o) => (BigInt(o.high) > max ? BigInt(o.high) : max), 0n);
    } catch (err) {
      if (!(err instanceof Error && err.message === 'the topic does not exist')) this.dropAdmin(admin);
      throw err;
    }
  }

  /** A failed request may have left the admin's connections broken: the next read connects a new one. */
  private dropAdmin(admin: Admin): void {
    if (this.admin !== admin) return;
    this.admin = undefined;
    this.adminConnecting = undefined;
    admin.disconnect().catch(() => undefined);
  }

  private connectedAdmin(): Promise<Admin> {
    if (this.stopped) return Promise.reject(new Error('the audit logger is shutting down'));
    this.adminConnecting ??= (async () => {
      const admin = this.opts.kafka.admin();
      try {
        await admin.connect();
      } catch (err) {
        this.adminConnecting = undefined;
        throw err;
      }
      if (this.stopped) {
        // Closed while connecting (start-up is not awaited): nothing may stay connected after close.
        await admin.disconnect().catch(() => undefined);
        throw new Error('the audit logger is shutting down');
      }
      this.admin = admin;
      return admin;
    })();
    return this.adminConnecting;
  }

  private caughtUpTo(target: bigint): Promise<void> {
    if (this.next >= target) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        target,
        resolve: () => {
          this.waiters.delete(waiter);
          resolve();
        },
        reject: (err) => {
          this.waiters.delete(waiter);
          reject(err);
        },
      };
      this.waiters.add(waiter);
      // The topic exists (its end was just read): follow it if that is not under way yet.
      this.follow().catch((err: unknown) => waiter.reject(err instanceof Error ? err : new Error(String(err))));
    });
  }

  /** Starts the consumer once; a crash restarts it (superviseCrashes) for as long as the process runs. */
  private follow(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('the audit logger is shutting down'));
    this.following ??= this.startConsumer().catch((err: unknown) => {
      this.following = undefined;
      throw err;
    });
    return this.following;
  }

  private async startConsumer(): Promise<void> {
    const consumer = this.opts.kafka.consumer({ groupId: this.groupId, allowAutoTopicCreation: false, ...CONSUMER_GROUP_TIMING });
    this.consumer = consumer;
    // Never lets the consumer end for good (nor the process): a broker outage past KafkaJS's own
    // restarts is retried in-process with back-off. Records seen before are skipped by offset.
    superviseCrashes(consumer, {
      name: 'audit-anchor-follower',
      logger: this.opts.logger,
      backoff: this.backoff,
      stopped: () => this.stopped || this.consumer !== consumer,
      restart: async () => {
        await consumer.disconnect().catch(() => undefined);
        if (this.consumer === consumer) await this.startConsumer();
      },
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: this.opts.topic, fromBeginning: true });
      await consumer.run({
        // Nothing is committed: the group lives as long as this process and always starts from the beginning.
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) this.take(BigInt(message.offset), message.value);
        },
      });
      // Closed (or replaced) while it was joining: the disconnect may have come before the connection.
      if (this.stopped || this.consumer !== consumer) await consumer.disconnect().catch(() => undefined);
    } catch (err) {
      if (this.consumer === consumer) this.consumer = undefined;
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
  }

  private take(offset: bigint, value: Buffer | null): void {
    if (offset < this.next) return; // read again after a restart
    this.next = offset + 1n;
    if (value) {
      let anchor: Anchor | undefined;
      try {
        anchor = JSON.parse(value.toString('utf8')) as Anchor;
      } catch {
        // Not evidence about any ledger (only the audit logger writes here); it must not wedge the follower either.
        this.opts.logger.warn({ topic: this.opts.topic, offset: String(offset) }, 'anchor record is not JSON; ignored');
      }
      if (anchor && this.opts.keep(anchor)) this.held.push({ offset, anchor });
    }
    for (const w of this.waiters) if (w.target <= this.next) w.resolve();
  }

  private async stopFollowing(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.following = undefined;
    await consumer?.disconnect().catch((err: unknown) => this.opts.logger.warn({ err }, 'anchor consumer disconnect failed'));
  }
}

/** Rejects when `deadline` (epoch ms) passes first; the work itself is left to finish or fail on its own. */
async function beforeDeadline<T>(work: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} not read within the deadline`)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
