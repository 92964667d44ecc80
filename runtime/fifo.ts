/**
 * A first-in, first-out queue that lets go of an item as soon as it is taken. The queues it replaces were
 * arrays with a moving head (shift() copies the array every time), and kept every taken item referenced
 * until the head passed 1,024 and the array was copied: the zipper's connections held up to 1,024
 * acknowledged frames each, payloads and all (6.7 MB of serve's heap in the demo; docs/serverless.md).
 */
export class Fifo<T> {
  private items: (T | undefined)[];
  private head = 0;

  /** `items`, oldest first, is the queue's from now on */
  constructor(items: T[] = []) {
    this.items = items;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** puts `item` in front, to be taken next */
  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }

  /** the item `i` places from the front, left in place */
  peek(i = 0): T | undefined {
    return i < this.length ? this.items[this.head + i] : undefined;
  }

  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      // the emptied slots are let go of now and then, not one copy per item
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** takes every item, oldest first */
  takeAll(): T[] {
    const all = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return all;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }
}
