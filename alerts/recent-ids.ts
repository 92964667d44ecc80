/**
 * The ids seen lately, at most `capacity` of them (the oldest forgotten first). Events from cloud workers
 * carry `id` = stream:partition:sequence:n, and a takeover may publish again what its predecessor published
 * after its last mark (as MQTT's QoS 1 may deliver a message twice): a reader keeps one of each.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 100_000) {}

  /** true the first time an id is offered (while it is remembered), false for a repeat */
  first(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}
