import type { Admin, Kafka } from 'kafkajs';
import type { ReadinessCheck } from '@backbone/bootstrap';

/** Ready when the cluster answers a metadata request; keeps one admin connection open for it. */
export class KafkaReadiness implements ReadinessCheck {
  readonly name = 'kafka';
  private admin: Admin | undefined;
  private connected: Promise<void> | undefined;

  constructor(private readonly kafka: Kafka) {}

  async check(): Promise<void> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      this.connected = this.admin.connect();
    }
    try {
      await this.connected;
      await this.admin.describeCluster();
    } catch (err) {
      // A fresh connection next time: KafkaJS does not always recover a failed admin.
      const stale = this.admin;
      this.admin = undefined;
      await stale.disconnect().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }
}
