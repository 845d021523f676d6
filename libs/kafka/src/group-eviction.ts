import type { Kafka } from 'kafkajs';

/**
 * KafkaJS has no static membership (KIP-345): a consumer killed with SIGKILL stays a member of its
 * group until its session times out, and the group's next rebalance (the one its restarted process
 * asks for) waits for that. A restarted instance knows its predecessor by the client id they share
 * (one per instance, e.g. `policy-gate-<GATE_INSTANCE_ID>`), so it removes that member with a
 * LeaveGroup on its behalf before joining, as the Java client's static members do.
 *
 * LeaveGroup is not in KafkaJS's admin API; the request goes through the client's own broker
 * connection (the same internal path KafkaJS's consumer takes on disconnect).
 */

interface KafkaJsBroker {
  describeGroups(request: { groupIds: string[] }): Promise<{ groups: { members: { memberId: string; clientId: string }[] }[] }>;
  leaveGroup(request: { groupId: string; memberId: string }): Promise<unknown>;
}
interface KafkaJsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(request: { groupId: string }): Promise<KafkaJsBroker>;
}
type ClusterFactory = (options: { allowAutoTopicCreation: boolean }) => KafkaJsCluster;

function clusterOf(kafka: Kafka): KafkaJsCluster {
  const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const factory = key === undefined ? undefined : (kafka as unknown as Record<symbol, ClusterFactory | undefined>)[key];
  if (typeof factory !== 'function') throw new Error('this KafkaJS version has no internal cluster factory: predecessor not evicted');
  return factory({ allowAutoTopicCreation: false });
}

/**
 * Removes every member of `groupId` whose client id is `clientId` (this instance's earlier
 * processes); returns their member ids. Called before this process joins, so none is its own.
 */
export async function evictPredecessors(kafka: Kafka, groupId: string, clientId: string): Promise<string[]> {
  return evictGroupMembers(kafka, groupId, (member) => member.clientId === clientId);
}

/**
 * Removes the members of `groupId` that `which` selects; returns their member ids. Only for a caller
 * that knows those members are dead (a restarted instance, or one holding a lock only a live
 * instance can hold): a live member removed this way just rejoins, which costs a rebalance.
 */
export async function evictGroupMembers(
  kafka: Kafka,
  groupId: string,
  which: (member: { memberId: string; clientId: string }) => boolean,
): Promise<string[]> {
  // One client and the coordinator's one connection for the describe and the leaves: an admin
  // client for the describe and a second client for the leaves took two more TLS and SCRAM
  // handshakes, and on a busy machine that was seconds of a restarted gate's start-up.
  for (let attempt = 1; ; attempt++) {
    const cluster = clusterOf(kafka);
    try {
      await cluster.connect();
      const coordinator = await cluster.findGroupCoordinator({ groupId });
      const { groups } = await coordinator.describeGroups({ groupIds: [groupId] });
      const stale = (groups[0]?.members ?? []).filter(which).map((m) => m.memberId);
      for (const memberId of stale) {
        // UNKNOWN_MEMBER_ID: its session ended between the describe and now; gone either way.
        await coordinator.leaveGroup({ groupId, memberId }).catch((err: unknown) => {
          if ((err as { type?: unknown }).type !== 'UNKNOWN_MEMBER_ID') throw err;
        });
      }
      return stale;
    } catch (err) {
      // The coordinator moved or is loading (a broker restarting): ask again, a few times.
      if (attempt >= EVICT_ATTEMPTS || (err as { retriable?: unknown }).retriable !== true) throw err;
    } finally {
      await cluster.disconnect().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
  }
}

const EVICT_ATTEMPTS = 3;
