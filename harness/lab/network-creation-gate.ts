/**
 * Keeps "cannot reach" checks and network creation on one engine apart.
 *
 * Docker before 28 removes FORWARD's jumps to DOCKER-USER and DOCKER-ISOLATION-STAGE-1 and inserts
 * them again at every network create (libnetwork's EnsureJumpRule "ensures the jump rule is on
 * top" with an iptables -D and then an -I; libnetwork#1658 calls it non-atomic). Between the two,
 * packets cross from one bridge to another. Measured here (bench/isolation-lapse): while networks
 * were created, 109 of 700 cross-bridge requests got an answer on 20.10 and 90 of 678 on 26.1,
 * none on 28.5; none on an idle engine, nor while networks were removed. A run creates networks for scenarios
 * running beside each other, so a check that isolation holds must not overlap a creation, or it
 * reports the lapse of someone else's `docker network create` as its own.
 *
 * Creations run beside each other, and steady checks beside each other; a creation waits for the
 * steady checks under way, and they for it, in the order they asked (neither side starves).
 */
export class NetworkCreationGate {
  private active: { side: Side; count: number } | undefined;
  private readonly waiting: { side: Side; admit: () => void }[] = [];

  /** Creates a network (or a Compose project's networks) once no steady check is under way. */
  creating<T>(work: () => Promise<T>): Promise<T> {
    return this.hold("creating", work);
  }

  /** Runs checks that a rule of FORWARD's must hold for, once no network is being created. */
  steady<T>(work: () => Promise<T>): Promise<T> {
    return this.hold("steady", work);
  }

  private async hold<T>(side: Side, work: () => Promise<T>): Promise<T> {
    await this.enter(side);
    try {
      return await work();
    } finally {
      this.leave();
    }
  }

  private enter(side: Side): Promise<void> {
    if (!this.active) this.active = { side, count: 0 };
    // Joins its side while nobody of the other side waits; otherwise queues behind them.
    if (this.active.side === side && this.waiting.length === 0) {
      this.active.count++;
      return Promise.resolve();
    }
    return new Promise((admit) => this.waiting.push({ side, admit }));
  }

  private leave(): void {
    if (!this.active || --this.active.count > 0) return;
    const next = this.waiting[0];
    this.active = next ? { side: next.side, count: 0 } : undefined;
    // Everyone of the next side who queued in a row goes in together.
    while (this.active && this.waiting[0]?.side === this.active.side) {
      this.active.count++;
      this.waiting.shift()!.admit();
    }
  }
}

type Side = "creating" | "steady";
