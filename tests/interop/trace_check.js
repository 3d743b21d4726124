// trace_check.js: checks of civitas trace against independent
// implementations, driven by test_trace_interop.sh:
//   validate WORK      every EPCIS document civitas emitted (out/*.json
//                      events[].document) and every document of the
//                      example (docs/[0-9]*.jsonld) passes epcis2.js's
//                      EPCIS 2.0 schema validation
//   ids WORK           event hash IDs: civitas's (docs/*.ids, from
//                      `civitas trace id`, and the ids of emitted events)
//                      equal epcis2.js's eventToHashedId
//   codes FILE         lines "CODE accepted|refused" from `civitas trace
//                      code`: civitas accepts exactly what digital-link.js
//                      finds valid
//   qr PNG URL         the QR code decodes (jsqr) to URL, a valid Digital Link
'use strict';
const fs = require('fs');
const path = require('path');
const epcis = require('epcis2.js');
const { DigitalLink } = require('digital-link.js');

function fail(msg) { console.error('FAIL: ' + msg); process.exit(1); }

// epcis2.js 2.7.3 returns a Digital Link URI with both a batch (10) and a
// serial (21) unchanged (its "lowest level of identification" step misreads
// the URI), where the GS1 algorithm keeps only the serial; civitas follows
// the algorithm. This applies that one rule before handing epcis2.js the
// event; every other normalisation is epcis2.js's own.
function lowestLevel(event) {
  return JSON.parse(JSON.stringify(event), (k, v) =>
    typeof v === 'string' ? v.replace(/^(https?:\/\/[^?#]*\/01\/[0-9]+)\/10\/[^/?#]+(\/21\/)/, '$1$2') : v);
}

function jsId(event, context) { return epcis.eventToHashedId(lowestLevel(event), context); }

function emittedDocuments(work) {
  const out = path.join(work, 'out');
  const docs = [];
  for (const f of fs.readdirSync(out).filter((f) => f.endsWith('.json'))) {
    for (const ev of JSON.parse(fs.readFileSync(path.join(out, f))).events || [])
      if (ev.document && ev.document.type) docs.push({ id: ev.id, doc: ev.document, from: f });
  }
  return docs;
}

function exampleDocuments(work) {
  const dir = path.join(work, 'docs');
  return fs.readdirSync(dir).filter((f) => /^[0-9].*\.jsonld$/.test(f)).sort()
    .map((f) => ({ file: path.join(dir, f), doc: JSON.parse(fs.readFileSync(path.join(dir, f))) }));
}

function validate(work) {
  const all = emittedDocuments(work).map((d) => ({ name: `${d.from} ${d.id}`, doc: d.doc }))
    .concat(exampleDocuments(work).map((d) => ({ name: d.file, doc: d.doc })));
  if (all.length < 20) fail(`only ${all.length} documents to validate`);
  for (const { name, doc } of all) {
    const r = epcis.validateEpcisDocument(doc, false);
    if (!r.success) fail(`${name} is not a valid EPCIS 2.0 document: ${JSON.stringify(r.errors).slice(0, 400)}`);
  }
  console.log(`epcis2.js validates all ${all.length} documents (emitted by civitas and of the example)`);
}

function ids(work) {
  let n = 0;
  for (const { file, doc } of exampleDocuments(work)) {
    const mine = fs.readFileSync(file.replace(/\.jsonld$/, '.ids'), 'utf8').trim().split('\n');
    const events = doc.epcisBody.eventList;
    if (mine.length !== events.length) fail(`${file}: ${mine.length} ids for ${events.length} events`);
    events.forEach((ev, i) => {
      const theirs = jsId(ev, doc['@context']);
      if (theirs !== mine[i]) fail(`${file} event ${i + 1}: civitas ${mine[i]}, epcis2.js ${theirs}`);
      n++;
    });
  }
  for (const { id, doc, from } of emittedDocuments(work)) {
    const ev = doc.epcisBody.eventList[0];
    if (ev.errorDeclaration) continue; // its hash ID is the corrected event's
    const theirs = jsId(ev, doc['@context']);
    if (theirs !== id) fail(`${from}: served event ${id}, epcis2.js computes ${theirs}`);
    n++;
  }
  console.log(`${n} event hash IDs computed by civitas equal epcis2.js's`);
}

function codes(file) {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  let accepted = 0;
  for (const line of lines) {
    const [code, verdict] = line.split(' ');
    let valid;
    try { valid = DigitalLink(code).isValid(); } catch (e) { valid = false; }
    if (valid !== (verdict === 'accepted')) fail(`${code}: civitas ${verdict}, digital-link.js valid=${valid}`);
    accepted += valid;
  }
  console.log(`${lines.length} codes: civitas and digital-link.js agree (${accepted} valid)`);
}

function qr(png, url) {
  const { PNG } = require('pngjs');
  const jsQR = require('jsqr');
  const img = PNG.sync.read(fs.readFileSync(png));
  const rgba = new Uint8ClampedArray(img.width * img.height * 4);
  for (let i = 0; i < img.width * img.height; i++) { // pngjs gives RGBA already
    rgba.set(img.data.subarray(i * 4, i * 4 + 4), i * 4);
  }
  const found = jsQR(rgba, img.width, img.height);
  if (!found) fail(`${png}: jsqr finds no QR code`);
  if (found.data !== url) fail(`${png} decodes to ${found.data}, expected ${url}`);
  if (!DigitalLink(found.data).isValid()) fail(`${found.data} is not a valid Digital Link for digital-link.js`);
  console.log(`QR ${path.basename(png)} decodes to ${found.data} (a valid Digital Link)`);
}

const [cmd, ...args] = process.argv.slice(2);
({ validate, ids, codes, qr })[cmd](...args);
