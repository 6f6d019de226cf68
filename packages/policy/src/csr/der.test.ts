import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DerCursor,
  DerError,
  expectSetOrder,
  integerToBigInt,
  oidText,
  readBoolean,
  readElement,
  readIntegerBytes,
  readOctetAlignedBitString,
  readSmallInteger,
  readWhole,
  toHex,
} from './der.ts';

const bytes = (hex: string): Uint8Array =>
  Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));

/** The error text a reader throws, or 'ok'. */
function outcome(read: () => unknown): string {
  try {
    read();
    return 'ok';
  } catch (error) {
    assert.ok(error instanceof DerError, String(error));
    return error.reason;
  }
}

describe('readElement', () => {
  const cases: { name: string; hex: string; want: string }[] = [
    { name: 'reads a short length', hex: '0403 010203', want: 'ok' },
    { name: 'reads a long length', hex: `0481 80 ${'00'.repeat(128)}`, want: 'ok' },
    { name: 'reads a high tag number in minimal form', hex: '9f1f 00', want: 'ok' },
    {
      name: 'refuses an indefinite length',
      hex: '3080 0000',
      want: 'indefinite length (BER) is not allowed in DER',
    },
    {
      name: 'refuses a long form for a short length',
      hex: '0481 05 0102030405',
      want: 'length is not minimally encoded (not DER)',
    },
    {
      name: 'refuses leading zero length octets',
      hex: `048200 80 ${'00'.repeat(128)}`,
      want: 'length has leading zero octets (not DER)',
    },
    {
      name: 'refuses more than four length octets',
      hex: '0485 0000000001 00',
      want: 'length is too large',
    },
    { name: 'refuses the reserved length octet 0xFF', hex: '04ff', want: 'length is too large' },
    {
      name: 'refuses a length past the end',
      hex: '0405 0102',
      want: 'length exceeds the enclosing data (truncated)',
    },
    { name: 'refuses a missing length', hex: '04', want: 'truncated length' },
    { name: 'refuses truncated long-form length octets', hex: '0482 01', want: 'truncated length' },
    {
      name: 'refuses a high tag number below 31',
      hex: '1f1e 00',
      want: 'tag number is not minimally encoded',
    },
    {
      name: 'refuses a high tag number with a leading 0x80',
      hex: '1f80 1f 00',
      want: 'tag number is not minimally encoded',
    },
    { name: 'refuses a truncated high tag number', hex: '1f81', want: 'truncated tag' },
    {
      name: 'refuses an absurd tag number',
      hex: '1fffffffff7f 00',
      want: 'tag number is too large',
    },
    { name: 'refuses nothing at all', hex: '', want: 'missing element' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const data = bytes(c.hex);
      assert.equal(
        outcome(() => readElement(data, 0, data.length, 'x')),
        c.want,
      );
    });
  }

  it('reports class, form and tag number', () => {
    const el = readWhole(bytes('bf2103 020100'), 'x');
    assert.deepEqual([el.tagClass, el.constructed, el.tagNumber], [2, true, 33]);
  });

  it('refuses trailing bytes after a whole element', () => {
    assert.equal(
      outcome(() => readWhole(bytes('0500 00'), 'x')),
      'trailing data after the element',
    );
  });
});

describe('DerCursor', () => {
  it('names children by field and by index in error paths', () => {
    const seq = readWhole(bytes('3006 0500 3002 0400'), 'root');
    const cursor = new DerCursor(seq);
    assert.equal(cursor.next('first').path, 'root.first');
    const inner = new DerCursor(cursor.next('second'));
    assert.equal(inner.next().path, 'root.second[0]');
  });

  it('refuses children left unread', () => {
    const cursor = new DerCursor(readWhole(bytes('3004 0500 0500'), 'root'));
    cursor.next();
    assert.equal(
      outcome(() => {
        cursor.finish();
      }),
      'unexpected trailing data inside the element',
    );
  });

  it('refuses to walk a primitive element', () => {
    assert.equal(
      outcome(() => new DerCursor(readWhole(bytes('0400'), 'x'))),
      'expected a constructed encoding',
    );
  });
});

describe('INTEGER', () => {
  const cases: { name: string; hex: string; want: string }[] = [
    { name: 'reads zero', hex: '020100', want: '0' },
    { name: 'reads 127', hex: '02017f', want: '127' },
    { name: 'reads 128 with its sign octet', hex: '02020080', want: '128' },
    { name: 'reads -1', hex: '0201ff', want: '-1' },
    { name: 'reads -129', hex: '0202ff7f', want: '-129' },
    { name: 'refuses an empty INTEGER', hex: '0200', want: 'INTEGER must not be empty' },
    {
      name: 'refuses a superfluous 0x00',
      hex: '0202007f',
      want: 'INTEGER is not minimally encoded (not DER)',
    },
    {
      name: 'refuses a superfluous 0xFF',
      hex: '0202ff80',
      want: 'INTEGER is not minimally encoded (not DER)',
    },
    { name: 'refuses another type', hex: '0a0100', want: 'expected an INTEGER' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const el = readWhole(bytes(c.hex), 'x');
      let value = '';
      const result = outcome(() => (value = integerToBigInt(readIntegerBytes(el)).toString()));
      assert.equal(result === 'ok' ? value : result, c.want);
    });
  }

  it('refuses a small INTEGER of more than four octets', () => {
    assert.equal(
      outcome(() => readSmallInteger(readWhole(bytes('02050100000000'), 'x'))),
      'INTEGER is too large',
    );
  });
});

describe('BOOLEAN and BIT STRING', () => {
  const cases: { name: string; read: () => unknown; want: string }[] = [
    {
      name: 'reads TRUE as 0xFF',
      read: () => readBoolean(readWhole(bytes('0101ff'), 'x')),
      want: 'ok',
    },
    {
      name: 'reads FALSE as 0x00',
      read: () => readBoolean(readWhole(bytes('010100'), 'x')),
      want: 'ok',
    },
    {
      name: 'refuses TRUE as 0x01',
      read: () => readBoolean(readWhole(bytes('010101'), 'x')),
      want: 'BOOLEAN must be 0x00 or 0xFF in DER',
    },
    {
      name: 'refuses a two-octet BOOLEAN',
      read: () => readBoolean(readWhole(bytes('0102ffff'), 'x')),
      want: 'BOOLEAN must be one octet',
    },
    {
      name: 'reads an octet-aligned BIT STRING',
      read: () => readOctetAlignedBitString(readWhole(bytes('030200ff'), 'x')),
      want: 'ok',
    },
    {
      name: 'refuses unused bits',
      read: () => readOctetAlignedBitString(readWhole(bytes('030201fe'), 'x')),
      want: 'BIT STRING must have no unused bits here',
    },
    {
      name: 'refuses a BIT STRING without its first octet',
      read: () => readOctetAlignedBitString(readWhole(bytes('0300'), 'x')),
      want: 'BIT STRING must hold the unused-bits octet',
    },
    {
      name: 'refuses a constructed BIT STRING',
      read: () => readOctetAlignedBitString(readWhole(bytes('2303 030100'), 'x')),
      want: 'expected a BIT STRING',
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      assert.equal(outcome(c.read), c.want);
    });
});

describe('oidText', () => {
  const cases: { name: string; hex: string; want: string }[] = [
    { name: 'reads commonName', hex: '550403', want: '2.5.4.3' },
    { name: 'reads extensionRequest', hex: '2a864886f70d01090e', want: '1.2.840.113549.1.9.14' },
    { name: 'reads a first arc of 0', hex: '27', want: '0.39' },
    { name: 'reads a second arc above 39 under 2', hex: '8837', want: '2.999' },
    { name: 'reads the largest arc Go reads', hex: '2a 87ffffff7f', want: '1.2.2147483647' },
    {
      name: 'refuses an arc Go cannot read',
      hex: '2a 8880808000',
      want: 'OBJECT IDENTIFIER arc is too large',
    },
    { name: 'refuses an empty OID', hex: '', want: 'OBJECT IDENTIFIER must not be empty' },
    {
      name: 'refuses a leading 0x80 in an arc',
      hex: '2a 8001',
      want: 'OBJECT IDENTIFIER arc is not minimally encoded',
    },
    {
      name: 'refuses an OID ending inside an arc',
      hex: '2a 86',
      want: 'OBJECT IDENTIFIER ends inside an arc',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      let text = '';
      const result = outcome(() => (text = oidText(bytes(c.hex), 'x')));
      assert.equal(result === 'ok' ? text : result, c.want);
    });
  }
});

describe('expectSetOrder', () => {
  const set = (hex: string) => {
    const el = readWhole(bytes(hex), 'x');
    const cursor = new DerCursor(el);
    const items = [];
    while (!cursor.atEnd) items.push(cursor.next());
    return items;
  };
  const cases: { name: string; hex: string; want: string }[] = [
    { name: 'accepts ascending encodings', hex: '3106 020101 020102', want: 'ok' },
    { name: 'accepts equal encodings', hex: '3106 020101 020101', want: 'ok' },
    { name: 'accepts a shorter prefix first', hex: '3107 020101 03020000', want: 'ok' },
    {
      name: 'refuses descending encodings',
      hex: '3106 020102 020101',
      want: 'SET OF elements are not in DER order',
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      assert.equal(
        outcome(() => {
          expectSetOrder(set(c.hex), 'x');
        }),
        c.want,
      );
    });
});

describe('toHex', () => {
  it('writes lowercase pairs', () => {
    assert.equal(toHex(bytes('00ff0aA0')), '00ff0aa0');
  });
});
