import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Explanation } from './explain.ts';
import { explanationJson, formatExplanation, formatPending, humanAge } from './format.ts';
import { newestEventByUid } from './pending.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('humanAge prints ages as kubectl does', () => {
  const cases: [string, number | undefined, string][] = [
    ['seconds below two minutes are seconds', 119 * S, '119s'],
    ['a clock running behind is 0s, not negative', -5 * S, '0s'],
    ['minutes below ten carry their seconds', 3 * M + 12 * S, '3m12s'],
    ['whole minutes below ten drop the seconds', 5 * M, '5m'],
    ['just below ten minutes the seconds still show', 9 * M + 59 * S, '9m59s'],
    ['from ten minutes on the seconds go', 10 * M + 59 * S, '10m'],
    ['minutes below three hours are minutes', 179 * M + 59 * S, '179m'],
    ['hours below eight carry their minutes', 5 * H + 3 * M, '5h3m'],
    ['hours below two days are hours', 30 * H + 59 * M, '30h'],
    ['days below eight carry their hours', 3 * D + 4 * H, '3d4h'],
    ['whole days below eight drop the hours', 3 * D, '3d'],
    ['eight days and more are days', 12 * D + 5 * H, '12d'],
    ['an unknown creation time is said to be unknown', undefined, '<unknown>'],
  ];
  for (const [name, ms, expected] of cases) {
    it(name, () => {
      assert.equal(humanAge(ms), expected);
    });
  }
});

const NOW = Date.parse('2026-12-03T12:00:00Z');
const created = new Date(NOW - 90 * S).toISOString();

const denied: Explanation = {
  report: {
    decision: 'deny',
    csr: 'csr-thief',
    node: 'thief',
    reasons: [
      { code: 'SanNotOwned', message: 'IP SAN 10.0.0.1 is not an IP address of Node thief' },
      { code: 'DisallowedUsages', message: 'usage client auth is not allowed' },
    ],
    message: 'SanNotOwned: …; DisallowedUsages: …',
    leavePending: false,
  },
  wouldWrite: { type: 'Denied', reason: 'SanNotOwned', message: 'stampede denied: SanNotOwned: …' },
  accessReview: { state: 'asked', allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding' },
  createdAt: created,
};

describe('explain prints the decision, every reason and what a worker would write', () => {
  const cases: [string, Explanation, RegExp[]][] = [
    [
      'a denial lists every reason, one a line, codes aligned',
      denied,
      [
        /^CSR: +csr-thief \(age 90s\)$/m,
        /^Node: +thief$/m,
        /^Decision: +deny$/m,
        /^Reasons: +SanNotOwned {7}IP SAN 10\.0\.0\.1 is not an IP address of Node thief$/m,
        /^ +DisallowedUsages {2}usage client auth is not allowed$/m,
        /^Would write: +Denied SanNotOwned: stampede denied: SanNotOwned: …$/m,
        /^SubjectAccessReview: +allowed \(RBAC: allowed by ClusterRoleBinding\)$/m,
      ],
    ],
    [
      'a review the user may not create is said to be skipped and assumed allowed',
      { ...denied, accessReview: { state: 'skipped', reason: 'forbidden: User "viewer"' } },
      [
        /^SubjectAccessReview: +skipped: you may not create SubjectAccessReviews .*assumed allowed$/m,
      ],
    ],
    [
      'a review the policy does not need is said not to be asked',
      { ...denied, accessReview: { state: 'not-needed' } },
      [/^SubjectAccessReview: +not asked/m],
    ],
    [
      'a decided CSR shows its condition and says it was evaluated as if pending',
      {
        ...denied,
        recorded: { type: 'Denied', reason: 'SanNotOwned', message: 'stampede denied: x' },
      },
      [
        /^Recorded: +Denied SanNotOwned: stampede denied: x$/m,
        /^Decision: +deny \(evaluated as if still pending\)$/m,
      ],
    ],
    [
      'a retry names the missing fact and writes nothing',
      {
        report: {
          decision: 'retry',
          csr: 'csr-early',
          node: 'late',
          reasons: [{ code: 'NodeNotFound', message: 'Node late does not exist (yet)' }],
          fact: 'node',
        },
        accessReview: { state: 'not-needed' },
        createdAt: created,
      },
      [/^Decision: +retry$/m, /^Reasons: +NodeNotFound {2}Node late/m, /^Missing fact: +node$/m],
    ],
    [
      'a leave-pending denial says nothing would be written',
      { ...denied, report: { ...denied.report, leavePending: true } },
      [/^Would write: +nothing \(onViolation: leave-pending\)$/m],
    ],
    [
      'a requester that is not a node is named as such',
      { ...denied, report: { ...denied.report, node: null } },
      [/^Node: +\(the requester is not a node\)$/m],
    ],
  ];
  for (const [name, explanation, patterns] of cases) {
    it(name, () => {
      const text = formatExplanation(explanation, NOW);
      for (const pattern of patterns) assert.match(text, pattern);
    });
  }

  it('the JSON form is stampede check’s object plus the live-only fields', () => {
    const parsed = JSON.parse(explanationJson(denied)) as Record<string, unknown>;
    assert.equal(parsed['decision'], 'deny');
    assert.deepEqual(parsed['reasons'], denied.report.reasons);
    assert.deepEqual(parsed['wouldWrite'], denied.wouldWrite);
    assert.deepEqual(parsed['subjectAccessReview'], denied.accessReview);
  });
});

describe('pending prints one row a CSR, columns aligned', () => {
  it('says so when nothing is pending', () => {
    assert.equal(formatPending([]), 'No pending kubelet-serving CSRs.');
  });

  it('pads every column to its widest cell and shows the decision now', () => {
    const text = formatPending([
      {
        name: 'csr-a',
        ageMs: 5 * M,
        node: 'node-1',
        recorded: undefined,
        now: { decision: 'retry', code: 'NodeNotFound', message: 'Node node-1 does not exist' },
      },
      {
        name: 'csr-longer-name',
        ageMs: 30 * S,
        node: undefined,
        recorded: 'SanNotOwned',
        now: { decision: 'deny', code: 'NotANode', message: 'not a node' },
      },
    ]);
    assert.equal(
      text,
      [
        'NAME              AGE   NODE           LAST RECORDED   DECISION NOW',
        'csr-a             5m    node-1         <none>          retry NodeNotFound: Node node-1 does not exist',
        'csr-longer-name   30s   <not a node>   SanNotOwned     deny NotANode: not a node',
      ].join('\n'),
    );
  });

  it('leaves the decision column out when it was not asked for, and says when Events are unreadable', () => {
    const text = formatPending([{ name: 'csr-a', ageMs: 0, node: 'n', recorded: null }]);
    assert.equal(
      text,
      ['NAME    AGE   NODE   LAST RECORDED', 'csr-a   0s    n      <cannot list events>'].join(
        '\n',
      ),
    );
  });
});

describe('the last recorded reason is the newest Event about the CSR', () => {
  const event = (uid: string, reason: string, eventTime: string) => ({
    reason,
    eventTime,
    regarding: { kind: 'CertificateSigningRequest', uid },
  });
  const cases: [string, Parameters<typeof newestEventByUid>[0], Record<string, string>][] = [
    [
      'the later of two Events wins, whatever the order of the list',
      [
        event('u1', 'Later', '2026-12-03T12:00:05.000000Z'),
        event('u1', 'Earlier', '2026-12-03T12:00:01.000000Z'),
      ],
      { u1: 'Later' },
    ],
    [
      'Events of different CSRs are kept apart',
      [event('u1', 'A', '2026-12-03T12:00:00Z'), event('u2', 'B', '2026-12-03T12:00:00Z')],
      { u1: 'A', u2: 'B' },
    ],
    ['an Event regarding no uid is about no CSR', [{ reason: 'X', regarding: {} }], {}],
  ];
  for (const [name, events, expected] of cases) {
    it(name, () => {
      const newest = newestEventByUid(events);
      assert.deepEqual(
        Object.fromEntries([...newest].map(([uid, e]) => [uid, e.reason])),
        expected,
      );
    });
  }
});
