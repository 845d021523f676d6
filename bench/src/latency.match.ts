/**
 * Pairs send times with arrival times by key (an arrival may be recorded before its send is known:
 * the event can beat the HTTP response). Returns latencies in ms of the pairs, and how many sends
 * never arrived.
 */
export class LatencyMatcher {
  private readonly sent = new Map<string, number>();
  private readonly arrived = new Map<string, number>();
  private readonly samples: number[] = [];
  /** Every key sent, in order (to find their spans). */
  readonly keys: string[] = [];

  send(key: string, at: number): void {
    this.keys.push(key);
    const arrival = this.arrived.get(key);
    if (arrival !== undefined) {
      this.arrived.delete(key);
      this.samples.push(arrival - at);
    } else {
      this.sent.set(key, at);
    }
  }

  arrive(key: string, at: number): void {
    const sentAt = this.sent.get(key);
    if (sentAt !== undefined) {
      this.sent.delete(key);
      this.samples.push(at - sentAt);
    } else if (!this.arrived.has(key)) {
      this.arrived.set(key, at);
    }
  }

  /** Sends still waiting for their arrival. */
  get pending(): number {
    return this.sent.size;
  }

  get latencies(): readonly number[] {
    return this.samples;
  }
}
