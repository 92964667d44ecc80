import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

/**
 * Bytes of a WebAssembly memory of this process that are resident (Linux). A memory's size says little: pages
 * grown but never touched (AssemblyScript's allocator doubles the memory when it runs short) take no RAM.
 * Its mapping in /proc/self/smaps is the one of its size whose bytes, read through /proc/self/mem, are its
 * own (reading a page maps no RAM to it; instances of one module differ only past their static data).
 */
export function residentBytes(memory: WebAssembly.Memory): number {
  const bytes = new Uint8Array(memory.buffer);
  const other = new Uint8Array(bytes.length);
  const fd = openSync('/proc/self/mem', 'r');
  try {
    const found: number[] = [];
    for (const m of readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
      const [start, end] = m.slice(0, m.indexOf(' ')).split('-').map((x) => parseInt(x, 16));
      if (end - start !== bytes.length || !/^\S+ rw/.test(m)) continue;
      readSync(fd, other, 0, other.length, start);
      if (Buffer.compare(other, bytes) === 0) found.push(Number(/\nRss:\s+(\d+) kB/.exec(m)![1]) * 1024);
    }
    if (found.length !== 1) throw new Error(`${found.length} mappings of ${bytes.length} bytes hold this memory's bytes`);
    return found[0];
  } finally {
    closeSync(fd);
  }
}
