import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildCorpus, encodePem, kubeletCsr, runGoOracle, type GoResult } from '@stampede/testing';
import { decodeBase64LikeGo, decodePemLikeGo, readCsrPem } from './pem.ts';

const te = new TextEncoder();
const valid = kubeletCsr({ nodeName: 'node-a', dnsNames: ['node-a'], ips: ['10.0.0.1'] });
const body = Buffer.from(valid.der).toString('base64');

describe('readCsrPem', () => {
  const cases: { name: string; input: string; want: string }[] = [
    { name: 'reads one block', input: valid.pemText, want: 'ok' },
    { name: 'reads a block between blank lines', input: `\n\n${valid.pemText}\n\n`, want: 'ok' },
    {
      name: 'refuses a block of another type',
      input: encodePem(valid.der, { type: 'X' }),
      want: 'PEM block type must be CERTIFICATE REQUEST',
    },
    {
      name: 'refuses headers',
      input: encodePem(valid.der, { headers: [['A', 'b']] }),
      want: 'PEM headers are not allowed',
    },
    {
      name: 'refuses text before',
      input: `x\n${valid.pemText}`,
      want: 'data before the PEM block',
    },
    { name: 'refuses text after', input: `${valid.pemText}x`, want: 'data after the PEM block' },
    {
      name: 'refuses a second block',
      input: `${valid.pemText}${valid.pemText}`,
      want: 'more than one PEM block',
    },
    { name: 'refuses no block at all', input: 'hello', want: 'no PEM block found' },
    {
      name: 'refuses a block with broken base64',
      input: encodePem(valid.der, { body: '@@@@' }),
      want: 'no well-formed PEM block found (BEGIN/END lines or base64 body)',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = readCsrPem(te.encode(c.input));
      assert.equal(result.ok ? 'ok' : result.failure.message, c.want);
    });
  }

  it('refuses more than 64 KiB before looking at it', () => {
    const result = readCsrPem(new Uint8Array(65537));
    assert.equal(result.ok ? 'ok' : result.failure.code, 'RequestTooLarge');
  });

  it('never echoes the block type or headers in a message', () => {
    const result = readCsrPem(te.encode(encodePem(valid.der, { type: 'EVIL<script>' })));
    assert.ok(!result.ok && !result.failure.message.includes('EVIL'));
  });
});

describe('decodeBase64LikeGo', () => {
  const cases: { name: string; input: string; want: string | undefined }[] = [
    { name: 'decodes full groups', input: 'QUJD', want: '414243' },
    { name: 'decodes one padding character', input: 'QUI=', want: '4142' },
    { name: 'decodes two padding characters', input: 'QQ==', want: '41' },
    { name: 'skips CR, LF, spaces and tabs anywhere', input: 'Q\r\nU \tI\n=', want: '4142' },
    { name: 'skips newlines between the padding characters', input: 'QQ=\n=', want: '41' },
    { name: 'decodes nothing from nothing', input: '\n', want: '' },
    { name: 'refuses a missing padding', input: 'QQ', want: undefined },
    { name: 'refuses one padding character where two are needed', input: 'QQ=', want: undefined },
    { name: 'refuses padding after one character', input: 'Q===', want: undefined },
    { name: 'refuses data after padding', input: 'QQ==QUJD', want: undefined },
    { name: 'refuses three padding characters', input: 'QUJ==', want: undefined },
    { name: 'refuses a URL-safe character', input: 'QU-_', want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const data = te.encode(c.input);
      const result = decodeBase64LikeGo(data, 0, data.length);
      assert.equal(
        result === undefined ? undefined : Buffer.from(result.bytes).toString('hex'),
        c.want,
      );
    });
  }

  it('flags non-zero padding bits as not canonical', () => {
    const data = te.encode('QR==');
    assert.deepEqual(decodeBase64LikeGo(data, 0, data.length)?.canonical, false);
  });

  it('decodes what Buffer encodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), bytes => {
        const data = te.encode(Buffer.from(bytes).toString('base64'));
        const result = decodeBase64LikeGo(data, 0, data.length);
        assert.ok(result?.canonical);
        assert.deepEqual(Buffer.from(result.bytes), Buffer.from(bytes));
      }),
    );
  });
});

interface BlockView {
  readonly found: boolean;
  readonly type: string;
  readonly hasHeaders: boolean;
  /** base64 */
  readonly bytes: string;
  /** base64 */
  readonly rest: string;
}

function viewOfOurs(input: Uint8Array): BlockView {
  const block = decodePemLikeGo(input);
  if (block === undefined) {
    return {
      found: false,
      type: '',
      hasHeaders: false,
      bytes: '',
      rest: Buffer.from(input).toString('base64'),
    };
  }
  return {
    found: true,
    type: block.type,
    hasHeaders: block.headerCount > 0,
    bytes: Buffer.from(block.bytes).toString('base64'),
    rest: Buffer.from(input.subarray(block.restStart)).toString('base64'),
  };
}

function viewOfGo(pem: GoResult['pem']): BlockView {
  return {
    found: pem?.found ?? false,
    type: pem?.type ?? '',
    hasHeaders: Object.keys(pem?.headers ?? {}).length > 0,
    bytes: pem?.bytes ?? '',
    rest: pem?.rest ?? '',
  };
}

// The PEM finder must be Go's, quirks included: same block, same type, same bytes, same rest.
describe('decodePemLikeGo against Go encoding/pem', () => {
  // Mostly well-formed pieces, so that many inputs hold a block Go finds.
  const eol = fc.constantFrom('\n', '\n', '\n', '\r\n', '\r', ' \n', '\t\r\n', '');
  const type = fc.constantFrom('CERTIFICATE REQUEST', 'X', '', 'A:B', 'CERTIFICATE REQUEST ');
  const noise = fc.constantFrom('', '', 'x', ' ', '\n', '-----', '-----BEGIN ', '\n-----END ', ':');
  const bodyLine = fc.constantFrom(
    ...[body.slice(0, 64), body.slice(64, 128), 'QUJD', 'QQ=='].flatMap(l => [l, l, l]),
    ...['QQ=', '= =', ' QU JD', 'Q!==', ''],
  );
  const header = fc.constantFrom('Proc-Type: 4,ENCRYPTED', 'A:B', ' k : v ', 'no colon');
  const block = fc
    .record({
      before: noise,
      beginType: type,
      endType: fc.option(type, { nil: undefined }),
      eols: fc.array(eol, { minLength: 6, maxLength: 6 }),
      headers: fc.array(header, { maxLength: 2 }),
      body: fc.array(bodyLine, { maxLength: 3 }),
      after: noise,
    })
    .map(b => {
      const [e0 = '', e1 = '', e2 = '', e3 = '', e4 = ''] = b.eols;
      const headers = b.headers.map(h => `${h}${e1}`).join('') + (b.headers.length > 0 ? e2 : '');
      const lines = b.body.map(l => `${l}${e3}`).join('');
      const end = `-----END ${b.endType ?? b.beginType}-----${e4}`;
      return `${b.before}-----BEGIN ${b.beginType}-----${e0}${headers}${lines}${end}${b.after}`;
    });
  const generated = fc.sample(
    fc.array(block, { minLength: 1, maxLength: 3 }).map(blocks => blocks.join('')),
    { numRuns: 4000, seed: 20260101 },
  );
  const inputs = [...buildCorpus().map(c => c.input), ...generated.map(s => te.encode(s))];
  const go = runGoOracle(inputs.map((input, i) => ({ name: String(i), input })));

  it('generates inputs in which Go finds blocks, with and without headers', () => {
    const found = go.filter(r => r.pem?.found === true);
    const withHeaders = found.filter(r => Object.keys(r.pem?.headers ?? {}).length > 0);
    assert.ok(
      found.length > 500 && withHeaders.length > 50,
      `${found.length} blocks, ${withHeaders.length} with headers`,
    );
  });

  it('finds the same block as Go in every input', () => {
    const mismatches: string[] = [];
    inputs.forEach((input, i) => {
      const oursView = viewOfOurs(input);
      const goView = viewOfGo(go[i]?.pem);
      try {
        assert.deepEqual(oursView, goView);
      } catch {
        mismatches.push(
          `${JSON.stringify(Buffer.from(input).toString('latin1').slice(0, 300))}\n  ours ${JSON.stringify(oursView).slice(0, 300)}\n  go   ${JSON.stringify(goView).slice(0, 300)}`,
        );
      }
    });
    assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} mismatches`);
  });
});
