// Large messages to and from a child process, in pieces. A child process cannot be handed buffers: its
// messages are copied through a pipe, and one large message is serialised or deserialised in one go on the
// thread that sends or receives it (a workspace's text, an n-gram model: tens of megabytes). Typed arrays of a message larger than PIECE_BYTES are therefore sent ahead in pieces and the
// message carries a reference; the receiver puts them back together.

/** Bytes per piece of a large array sent to or from a child process. */
export const PIECE_BYTES = 2 * 1024 * 1024;

type Typed = Uint8Array | Int32Array | Uint32Array | Float32Array | Float64Array;
const CTORS = { Uint8Array, Int32Array, Uint32Array, Float32Array, Float64Array } as const;
type CtorName = keyof typeof CTORS;

/** What stands in a message for an array sent in pieces. */
interface BlobRef {
  $blob: number;
  ctor: CtorName;
  length: number;
}

/** A piece of an array, sent before the message that refers to it. */
export interface PieceMessage {
  type: '$piece';
  blob: number;
  /** Byte offset of this piece in the array. */
  at: number;
  /** The array's whole size in bytes (the first piece allocates it). */
  total: number;
  data: Uint8Array;
}

function isTyped(v: unknown): v is Typed {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && (v.constructor as { name: string }).name in CTORS;
}

/** Only plain objects are searched for arrays: a Map, a Set, a Date… go as they are (the serialisation keeps them). */
function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

let nextBlob = 1;

/**
 * Replaces the typed arrays larger than PIECE_BYTES (in the message, up to 4 levels deep) by references, and
 * returns the pieces to send first.
 */
export function splitMessage<T>(message: T): { message: T; pieces: PieceMessage[] } {
  const pieces: PieceMessage[] = [];
  const split = (v: unknown): unknown => {
    if (!isTyped(v) || v.byteLength <= PIECE_BYTES) return v;
    const blob = nextBlob++;
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    for (let at = 0; at < bytes.length; at += PIECE_BYTES) {
      pieces.push({ type: '$piece', blob, at, total: bytes.length, data: bytes.subarray(at, at + PIECE_BYTES) });
    }
    return { $blob: blob, ctor: v.constructor.name as CtorName, length: v.length } satisfies BlobRef;
  };
  return { message: replaceIn(message, split) as T, pieces };
}

/**
 * `v` with what `leaf` replaces, looked for in `v` and, up to 4 levels deep, in its plain objects and arrays.
 * An object or array is copied only when something in it is replaced: most messages (a completion request, a
 * chunk to score) come back as they were (copying every message was a tenth of what Nextword allocated in
 * the extension host). Anything else (a Map, a class instance) is left as it is.
 */
function replaceIn(v: unknown, leaf: (v: unknown) => unknown, depth = 0): unknown {
  const replaced = leaf(v);
  if (replaced !== v || depth >= 4 || v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return replaced;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = replaceIn(v[i], leaf, depth + 1);
      if (x !== v[i]) (out ??= v.slice())[i] = x;
    }
    return out ?? v;
  }
  if (!isPlainObject(v)) return v;
  const obj = v as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(obj)) {
    const x = replaceIn(obj[k], leaf, depth + 1);
    if (x !== obj[k]) (out ??= { ...obj })[k] = x;
  }
  return out ?? v;
}

/** Puts arrays back together from their pieces and substitutes them for their references. */
export class MessageAssembler {
  private readonly blobs = new Map<number, Uint8Array>();

  /** True when `m` was a piece (kept); false for any other message. */
  accept(m: unknown): boolean {
    if (typeof m !== 'object' || m === null || (m as { type?: unknown }).type !== '$piece') return false;
    const p = m as PieceMessage;
    let buf = this.blobs.get(p.blob);
    if (!buf) this.blobs.set(p.blob, (buf = new Uint8Array(p.total)));
    buf.set(p.data, p.at);
    return true;
  }

  /** A listener of what arrives: keeps the pieces, and calls `f` with each whole message. */
  listener<T>(f: (m: T) => void): (m: unknown) => void {
    return (m) => {
      if (!this.accept(m)) f(this.restore(m as T));
    };
  }

  /** The message with its references replaced by the arrays they stand for. */
  restore<T>(message: T): T {
    // References come after their pieces: with none waiting, the message holds none.
    if (this.blobs.size === 0) return message;
    const join = (v: unknown): unknown => {
      const ref = v as Partial<BlobRef> | null;
      if (typeof v !== 'object' || ref === null || ArrayBuffer.isView(v) || typeof ref.$blob !== 'number' || typeof ref.ctor !== 'string' || !(ref.ctor in CTORS)) return v;
      const bytes = this.blobs.get(ref.$blob);
      if (!bytes) throw new Error(`worker channel: no pieces arrived for array ${ref.$blob}`);
      this.blobs.delete(ref.$blob);
      return new CTORS[ref.ctor as CtorName](bytes.buffer as ArrayBuffer, 0, ref.length);
    };
    return replaceIn(message, join) as T;
  }
}

/**
 * Sends `m` with `write` while the channel is `open`: the pieces of its large arrays first, `pause` awaited
 * after each.
 */
export async function sendInPieces(m: unknown, write: (m: object) => void, open: () => boolean, pause?: () => Promise<void>): Promise<void> {
  const { message, pieces } = splitMessage(m);
  for (const p of pieces) {
    if (!open()) return;
    write(p);
    await pause?.();
  }
  if (open()) write(message as object);
}

