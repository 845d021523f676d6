import { ServerKafka } from '@nestjs/microservices';
import type { Consumer } from 'kafkajs';
import type { Logger } from '@backbone/bootstrap';
import { RestartBackoff, superviseCrashes } from '@backbone/kafka';

/**
 * Nest's Kafka transport, except that a consumer KafkaJS stops for good (a non-retriable error,
 * e.g. "Failed to find group coordinator" while the brokers are away) is started again
 * in-process with back-off instead of leaving the subscriber idle. start() makes a fresh consumer
 * and producer on the same client and binds the same handlers, as at first start.
 */
export class ResilientServerKafka extends ServerKafka {
  private closed = false;
  private readonly backoff = new RestartBackoff();

  constructor(
    options: ConstructorParameters<typeof ServerKafka>[0],
    private readonly log?: Logger,
  ) {
    super(options);
  }

  protected override registerConsumerEventListeners(): void {
    super.registerConsumerEventListeners();
    if (!this.consumer) return;
    // Nest declares its own copy of KafkaJS's types; the object is KafkaJS's consumer.
    superviseCrashes(this.consumer as unknown as Consumer, {
      name: `feed ${this.groupId}`,
      logger: this.log,
      backoff: this.backoff,
      stopped: () => this.closed,
      restart: async () => {
        await this.producer?.disconnect().catch(() => undefined);
        await this.start(() => undefined);
      },
    });
  }

  override async close(): Promise<void> {
    this.closed = true;
    await super.close();
  }
}
