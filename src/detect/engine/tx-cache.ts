/**
 * The buffers of one transaction, each read (and transformed) once however
 * many rules inspect it: (buffer key, direction, index) → bytes or null.
 *
 * Replaces a `Map<string, …>` made per transaction with a `${key}|${dir}|${idx}`
 * string per lookup: on the benchmark corpus those strings and maps were
 * ~25 MB of garbage per public-mix pass, the engine's largest share. Here
 * keys are interned once (the key strings are the compiled programs' own, so
 * the intern lookup allocates nothing), index 0 — nearly every buffer — lives
 * in generation-stamped arrays, and the few multi-buffer entries (index ≥ 1)
 * in one numeric-keyed Map that is cleared, not recreated.
 */
export class TxBufferCache {
  private readonly keyIds = new Map<string, number>();
  private stamp = new Uint32Array(16);
  private vals: (Buffer | null)[] = new Array<Buffer | null>(16).fill(null);
  private readonly more = new Map<number, Buffer | null>();
  private gen = 1;

  /** Forget every entry (a new transaction). O(1) unless multi-buffer entries were cached. */
  begin(): void {
    this.gen = (this.gen + 1) >>> 0;
    if (this.gen === 0) {
      this.stamp.fill(0);
      this.gen = 1;
    }
    if (this.more.size > 0) this.more.clear();
    // Drop references to the previous transaction's buffers lazily: slots are overwritten on use.
  }

  private slot(key: string, dir: number): number {
    let id = this.keyIds.get(key);
    if (id === undefined) {
      id = this.keyIds.size;
      this.keyIds.set(key, id);
      if (2 * id + 2 > this.stamp.length) {
        const st = new Uint32Array(this.stamp.length * 2);
        st.set(this.stamp);
        this.stamp = st;
        for (let i = this.vals.length; i < st.length; i++) this.vals.push(null);
      }
    }
    return 2 * id + dir;
  }

  /** The cached bytes, or undefined when (key, dir, idx) was not read in this transaction. */
  get(key: string, dir: number, idx: number): Buffer | null | undefined {
    const s = this.slot(key, dir);
    if (idx === 0) return this.stamp[s] === this.gen ? this.vals[s]! : undefined;
    return this.more.get(s * 65536 + idx);
  }

  set(key: string, dir: number, idx: number, b: Buffer | null): void {
    const s = this.slot(key, dir);
    if (idx === 0) {
      this.stamp[s] = this.gen;
      this.vals[s] = b;
    } else if (idx < 65536) this.more.set(s * 65536 + idx, b);
  }
}
