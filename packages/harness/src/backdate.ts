// Backdating an object's metadata.creationTimestamp, which the apiserver always sets itself (on
// create, to "now"; on update, it keeps the old value). Tests of "how old is this Node?" need an
// old Node without waiting, so the harness rewrites the stored object in etcd directly: we own
// that etcd, and the apiserver's watch cache picks the change up like any other write.
//
// Objects are stored as "k8s\0" + a protobuf runtime.Unknown whose field 2 (raw) holds the
// object; object field 1 is ObjectMeta; ObjectMeta field 8 is creationTimestamp, a
// {seconds: 1, nanos: 2} message. Only those three levels are touched; every other byte is kept.

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

function readVarint(buf: Buffer, at: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (let pos = at; pos < buf.length; pos++) {
    const byte = buf[pos] ?? 0;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, pos + 1];
    shift += 7n;
  }
  throw new Error('truncated protobuf varint');
}

function varint(value: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return Buffer.from(out);
}

interface Field {
  readonly number: number;
  readonly start: number; // the tag's first byte
  readonly valueStart: number; // for length-delimited fields, after the length
  readonly end: number;
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [tag, afterTag] = readVarint(buf, pos);
    const wire = Number(tag & 7n);
    let valueStart = afterTag;
    if (wire === 0) pos = readVarint(buf, afterTag)[1];
    else if (wire === 1) pos = afterTag + 8;
    else if (wire === 5) pos = afterTag + 4;
    else if (wire === 2) {
      const [length, afterLength] = readVarint(buf, afterTag);
      valueStart = afterLength;
      pos = afterLength + Number(length);
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    out.push({ number: Number(tag >> 3n), start, valueStart, end: pos });
  }
  return out;
}

/** The bytes of length-delimited field `number` (first occurrence), or undefined. */
function getField(buf: Buffer, number: number): Buffer | undefined {
  const f = fields(buf).find(x => x.number === number);
  return f === undefined ? undefined : buf.subarray(f.valueStart, f.end);
}

/** Replaces (or inserts, in field order) length-delimited field `number` with `value`. */
function setField(buf: Buffer, number: number, value: Buffer): Buffer {
  const encoded = Buffer.concat([
    varint(BigInt((number << 3) | 2)),
    varint(BigInt(value.length)),
    value,
  ]);
  const all = fields(buf);
  const existing = all.find(f => f.number === number);
  if (existing !== undefined) {
    return Buffer.concat([buf.subarray(0, existing.start), encoded, buf.subarray(existing.end)]);
  }
  const before = all.find(f => f.number > number);
  const at = before?.start ?? buf.length;
  return Buffer.concat([buf.subarray(0, at), encoded, buf.subarray(at)]);
}

function encodeTime(date: Date): Buffer {
  const ms = BigInt(date.getTime());
  const seconds = ms / 1000n;
  // metav1.Time has second precision on the wire too (nanos are dropped when serialised as JSON).
  return Buffer.concat([varint(BigInt(1 << 3)), varint(seconds)]);
}

/** Returns a copy of a stored object with metadata.creationTimestamp set to `date`. */
export function withCreationTimestamp(stored: Buffer, date: Date): Buffer {
  if (!stored.subarray(0, 4).equals(MAGIC))
    throw new Error('not a protobuf-encoded Kubernetes object');
  const unknown = stored.subarray(4);
  const raw = getField(unknown, 2);
  const meta = raw === undefined ? undefined : getField(raw, 1);
  if (raw === undefined || meta === undefined) throw new Error('stored object has no metadata');
  const newMeta = setField(meta, 8, encodeTime(date));
  return Buffer.concat([MAGIC, setField(unknown, 2, setField(raw, 1, newMeta))]);
}

interface RangeResponse {
  kvs?: { value: string; mod_revision: string }[];
}

/**
 * Rewrites `key` in etcd (through its JSON gRPC gateway) so the object's creationTimestamp is
 * `date`; a compare-and-swap on the mod revision, so a concurrent apiserver write wins.
 */
export async function backdateInEtcd(etcdUrl: string, key: string, date: Date): Promise<void> {
  const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');
  const post = async <T>(path: string, body: unknown): Promise<T> => {
    const res = await fetch(`${etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    const range = await post<RangeResponse>('/v3/kv/range', { key: b64(key) });
    const kv = range.kvs?.[0];
    if (kv === undefined) throw new Error(`etcd has no ${key}`);
    const value = withCreationTimestamp(Buffer.from(kv.value, 'base64'), date);
    const txn = await post<{ succeeded?: boolean }>('/v3/kv/txn', {
      compare: [{ key: b64(key), target: 'MOD', mod_revision: kv.mod_revision, result: 'EQUAL' }],
      success: [{ request_put: { key: b64(key), value: b64(value) } }],
    });
    if (txn.succeeded === true) return;
  }
  throw new Error(`could not backdate ${key}: it kept changing`);
}
