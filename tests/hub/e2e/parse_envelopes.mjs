// parse_envelopes.mjs — parses every envelope file in a directory with Sentry's own
// JavaScript parser (parseEnvelope of @sentry/core) and checks rt's framing byte by byte.
//
//   node parse_envelopes.mjs <unpacked @sentry/core package dir> <envelope dir>
//
// Owns: the checks of the end-to-end test hub_e2e_envelopes (run.sh runs this after the C++
// program wrote one file per request body). It unpacks nothing and needs no other module.
// Invariant: exit status 0 only if the directory holds at least one file and every file is
// valid UTF-8, has an envelope header with a 32-hex event_id and dsn or sent_at, items whose
// header `length` is exactly the byte length of their payload (each payload followed by one
// '\n', nothing after the last), and parseEnvelope's result agrees with that split: the same
// headers, the same payload bytes, and for events the same JSON. Any failure prints
// "FAIL <file>: <problem>" and exits 1 (2 for bad usage or an unloadable package).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

function usage(message) {
  console.error(`parse_envelopes: ${message}`);
  console.error('usage: node parse_envelopes.mjs <sentry-core package dir> <envelope dir>');
  process.exit(2);
}

const [pkgArg, dirArg] = process.argv.slice(2);
if (!pkgArg || !dirArg) usage('two arguments needed');
const pkgDir = resolve(pkgArg);
const envDir = resolve(dirArg);

// The package's CommonJS build (package.json "main"), loaded by path: no resolution
// through node_modules, so the vendored copy is the one used.
let sentry;
try {
  sentry = createRequire(join(pkgDir, 'package.json'))(pkgDir);
} catch (e) {
  usage(`cannot load @sentry/core from ${pkgDir}: ${e.message}`);
}
const pkgJson = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
if (pkgJson.name !== '@sentry/core') usage(`${pkgDir} holds ${pkgJson.name}, not @sentry/core`);
const { parseEnvelope } = sentry;
if (typeof parseEnvelope !== 'function') usage(`@sentry/core ${pkgJson.version} has no parseEnvelope`);

class Problem extends Error {}
function fail(message) {
  throw new Problem(message);
}

const NL = 0x0a;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(bytes, what) {
  let text;
  try {
    text = utf8.decode(bytes);
  } catch {
    fail(`${what} is not valid UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    fail(`${what} is not JSON (${e.message}): ${JSON.stringify(text.slice(0, 120))}`);
  }
}

// split re-frames the raw bytes the way the envelope format defines them, strictly: a header
// line, then per item a header line and exactly `length` payload bytes followed by '\n'.
function split(bytes) {
  const headerEnd = bytes.indexOf(NL);
  if (headerEnd < 0) fail('no newline after the envelope header');
  const header = parseJson(bytes.subarray(0, headerEnd), 'the envelope header');
  const items = [];
  let pos = headerEnd + 1;
  while (pos < bytes.length) {
    const n = items.length;
    const lineEnd = bytes.indexOf(NL, pos);
    if (lineEnd < 0) fail(`item ${n}: no newline after its header`);
    const itemHeader = parseJson(bytes.subarray(pos, lineEnd), `item ${n}'s header`);
    const length = itemHeader.length;
    if (!Number.isSafeInteger(length) || length < 0)
      fail(`item ${n} (${itemHeader.type}): header has no integer length: ${JSON.stringify(itemHeader)}`);
    const start = lineEnd + 1;
    const end = start + length;
    if (end > bytes.length)
      fail(`item ${n} (${itemHeader.type}): length ${length} runs past the end of the file ` +
           `(${bytes.length - start} bytes follow its header)`);
    if (end === bytes.length || bytes[end] !== NL) {
      const actual = bytes.indexOf(NL, start);
      fail(`item ${n} (${itemHeader.type}): header length ${length} is not the payload's byte length ` +
           `(the payload's line has ${actual < 0 ? bytes.length - start : actual - start} bytes)`);
    }
    items.push({ header: itemHeader, payload: bytes.subarray(start, end) });
    pos = end + 1;
  }
  if (items.length === 0) fail('the envelope has no items');
  return { header, items };
}

function checkFile(path) {
  const bytes = new Uint8Array(readFileSync(path));
  if (bytes.length === 0) fail('empty file');
  const mine = split(bytes);

  const h = mine.header;
  if (typeof h !== 'object' || h === null || Array.isArray(h)) fail('the envelope header is not an object');
  if (typeof h.event_id !== 'string' || !/^[0-9a-f]{32}$/.test(h.event_id))
    fail(`envelope header event_id is not 32 lowercase hex digits: ${JSON.stringify(h.event_id)}`);
  if (h.dsn === undefined && h.sent_at === undefined) fail('envelope header has neither dsn nor sent_at');
  if (h.sent_at !== undefined && (typeof h.sent_at !== 'string' || Number.isNaN(Date.parse(h.sent_at))))
    fail(`envelope header sent_at is not a timestamp: ${JSON.stringify(h.sent_at)}`);
  if (h.dsn !== undefined && typeof h.dsn !== 'string') fail('envelope header dsn is not a string');

  let parsed;
  try {
    parsed = parseEnvelope(bytes);
  } catch (e) {
    fail(`@sentry/core parseEnvelope threw: ${e.message}`);
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || !Array.isArray(parsed[1]))
    fail('parseEnvelope did not return [header, items]');
  const [theirHeader, theirItems] = parsed;
  if (!isDeepStrictEqual(theirHeader, h)) fail("parseEnvelope's envelope header differs from the raw one");
  if (theirItems.length !== mine.items.length)
    fail(`parseEnvelope found ${theirItems.length} item(s), the raw bytes have ${mine.items.length}`);

  const summary = [];
  mine.items.forEach((item, n) => {
    const [theirItemHeader, theirPayload] = theirItems[n];
    const type = item.header.type;
    if (!isDeepStrictEqual(theirItemHeader, item.header))
      fail(`item ${n} (${type}): parseEnvelope's item header differs: ${JSON.stringify(theirItemHeader)}`);
    // With a length, parseEnvelope hands back the payload's bytes; without, parsed JSON.
    let theirValue;
    if (theirPayload instanceof Uint8Array) {
      if (Buffer.compare(Buffer.from(theirPayload), Buffer.from(item.payload)) !== 0)
        fail(`item ${n} (${type}): parseEnvelope's payload bytes differ from the raw payload`);
      theirValue = type === 'event' ? parseJson(theirPayload, `item ${n}'s payload as parseEnvelope read it`) : null;
    } else {
      theirValue = theirPayload;
    }
    let detail = '';
    if (type === 'event') {
      const ev = parseJson(item.payload, `item ${n}'s event payload`);
      if (!isDeepStrictEqual(theirValue, ev)) fail(`item ${n} (event): parseEnvelope's event differs from JSON.parse of the raw payload`);
      if (typeof ev !== 'object' || ev === null || Array.isArray(ev)) fail(`item ${n} (event): payload is not an object`);
      if (ev.event_id !== h.event_id)
        fail(`item ${n} (event): event_id ${JSON.stringify(ev.event_id)} is not the envelope's ${h.event_id}`);
      const exc = ev.exception?.values ?? [];
      const what = exc.length ? `exceptions [${exc.map((x) => x.type).join(', ')}] (innermost first)` : `message ${JSON.stringify((ev.logentry?.formatted ?? ev.message ?? '').slice(0, 24))}`;
      detail = ` level=${ev.level} ${what}`;
    }
    summary.push(`${type}(${item.header.length} bytes)${detail}`);
  });
  return `${bytes.length} bytes, event_id=${h.event_id}, ${summary.join(', ')}`;
}

let names;
try {
  names = readdirSync(envDir).filter((n) => statSync(join(envDir, n)).isFile()).sort();
} catch (e) {
  usage(`cannot read the envelope directory ${envDir}: ${e.message}`);
}
if (names.length === 0) {
  console.error(`FAIL ${envDir}: no envelope files (the C++ program wrote none)`);
  process.exit(1);
}

let failures = 0;
for (const name of names) {
  try {
    console.log(`ok   ${name}: ${checkFile(join(envDir, name))}`);
  } catch (e) {
    if (!(e instanceof Problem)) throw e;
    console.error(`FAIL ${name}: ${e.message}`);
    ++failures;
  }
}
console.log(`@sentry/core ${pkgJson.version} parseEnvelope: ${names.length - failures} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
