/**
 * The ids seen lately, at most `capacity` of them (the oldest forgotten first). Every event carries an `id`
 * made of what made it (codecs/event-ids.ts), and the same event may come twice: a cluster's takeover
 * publishes again what its predecessor published after its last mark, an edge source resends to a
 * restarted serve what it had not seen acknowledged, MQTT's QoS 1 may deliver a message twice. A reader
 * keeps one of each; `seen`, the ids seen before (a serve's sinks' from before a restart), oldest first.
 */
export class RecentIds {
  private readonly ids: Set<string>;

  constructor(
    private readonly capacity = 100_000,
    seen: Iterable<string> = [],
  ) {
    this.ids = new Set([...seen].slice(-capacity));
  }

  /** the ids remembered, oldest first */
  list(): string[] {
    return [...this.ids];
  }

  /** true the first time an id is offered (while it is remembered), false for a repeat */
  first(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}
