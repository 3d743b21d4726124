// sm_crypto_check.js: the sm-crypto side of tests/interop/test_sm_crypto.sh.
//
// sm-crypto (npm) is an SM2/SM3 implementation independent of OpenSSL; the
// shell test has civitas produce digests, keys and signatures and checks
// them here, and has sm-crypto produce signatures that civitas must accept.
//
//   node sm_crypto_check.js messages DIR N      write N random messages DIR/mNNN.bin
//   node sm_crypto_check.js sm3 DIGESTS         each line "FILE HEX": HEX == sm3(FILE)
//   node sm_crypto_check.js verify MANIFEST     each line "FILE PUBHEX SIGHEX [SECRETHEX]":
//                                               civitas's signature verifies (and not over
//                                               another message); SECRETHEX gives PUBHEX
//   node sm_crypto_check.js sign DIR N KEYS     N signatures by KEYS fresh sm-crypto keys over
//                                               DIR/sNNN.bin; writes DIR/kN.pub.pem and the
//                                               manifest DIR/signed.txt "FILE PEM SIGHEX"
//   node sm_crypto_check.js gbt                 the GB/T 32918.5 Annex A example
//
// Every command exits 0 when all checks pass and 1 (saying what failed) if not.
'use strict';

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { sm2, sm3 } = require('sm-crypto');
const { BigInteger } = require('jsbn');

// SM2 ID "1234567812345678" is sm-crypto's default userId; it is passed anyway.
const ID = '1234567812345678';
const OPTS = { der: true, hash: true, userId: ID };

// Lengths that straddle SM3's 64-byte block and its 55/56-byte padding limit.
const EDGE_LENGTHS = [0, 1, 2, 31, 32, 33, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000];

function die(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}

function lines(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

function bytes(file) {
  return Array.from(fs.readFileSync(file));
}

function cmdMessages(dir, n) {
  for (let i = 0; i < n; i++) {
    const len = i < EDGE_LENGTHS.length ? EDGE_LENGTHS[i] : crypto.randomInt(0, 1001);
    fs.writeFileSync(path.join(dir, 'm' + String(i).padStart(3, '0') + '.bin'), crypto.randomBytes(len));
  }
  console.log(`wrote ${n} messages (lengths 0..1000, including ${EDGE_LENGTHS.join(', ')})`);
}

function cmdSm3(digests) {
  let n = 0;
  for (const line of lines(digests)) {
    const [file, hex] = line.split(/\s+/);
    const want = sm3(bytes(file));
    if (hex !== want) die(`SM3 of ${file} (${fs.statSync(file).size} bytes): civitas ${hex}, sm-crypto ${want}`);
    n++;
  }
  if (n === 0) die('no digests to check');
  // and the standard's own examples, so that sm-crypto itself is sane
  if (sm3('abc') !== '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0') die('sm-crypto SM3("abc")');
  if (sm3('abcd'.repeat(16)) !== 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732') die('sm-crypto SM3(abcd*16)');
  console.log(`SM3: ${n} civitas digests equal sm-crypto's`);
}

function cmdVerify(manifest) {
  let n = 0;
  let derived = 0;
  for (const line of lines(manifest)) {
    const [file, pub, sig, secret] = line.split(/\s+/);
    const msg = bytes(file);
    if (!sm2.doVerifySignature(msg, sig, pub, OPTS)) die(`sm-crypto rejects civitas's signature of ${file}`);
    // the same signature over a message one byte longer must fail
    if (sm2.doVerifySignature(msg.concat([0]), sig, pub, OPTS)) die(`sm-crypto accepts ${file}'s signature for another message`);
    if (secret) {
      const got = sm2.getPublicKeyFromPrivateKey(secret);
      if (got.toLowerCase() !== pub.toLowerCase()) die(`secret of ${file}'s key gives ${got} in sm-crypto, civitas says ${pub}`);
      derived++;
    }
    n++;
  }
  if (n === 0) die('no signatures to check');
  console.log(`SM2: ${n} civitas signatures verify with sm-crypto (and fail for another message); ` +
              `${derived} civitas key pairs agree with sm-crypto's key derivation`);
}

// SubjectPublicKeyInfo for an SM2 key: SEQUENCE { SEQUENCE { id-ecPublicKey, sm2p256v1 },
// BIT STRING 04||x||y } is this fixed 26-byte prefix followed by the 65-byte point.
const SPKI_PREFIX = '3059301306072a8648ce3d020106082a811ccf5501822d034200';

function pubPem(pubHex) {
  const b64 = Buffer.from(SPKI_PREFIX + pubHex, 'hex').toString('base64');
  return '-----BEGIN PUBLIC KEY-----\n' + b64.match(/.{1,64}/g).join('\n') + '\n-----END PUBLIC KEY-----\n';
}

function cmdSign(dir, n, nkeys) {
  const keys = [];
  for (let k = 0; k < nkeys; k++) {
    const kp = sm2.generateKeyPairHex();
    const pem = path.join(dir, `k${k}.pub.pem`);
    fs.writeFileSync(pem, pubPem(kp.publicKey));
    keys.push({ ...kp, pem });
  }
  const out = [];
  for (let i = 0; i < n; i++) {
    const len = i < EDGE_LENGTHS.length ? EDGE_LENGTHS[i] : crypto.randomInt(0, 301);
    const msg = crypto.randomBytes(len);
    const file = path.join(dir, 's' + String(i).padStart(3, '0') + '.bin');
    fs.writeFileSync(file, msg);
    const key = keys[i % nkeys];
    const sig = sm2.doSignature(Array.from(msg), key.privateKey, { ...OPTS, publicKey: key.publicKey });
    if (!sm2.doVerifySignature(Array.from(msg), sig, key.publicKey, OPTS)) die('sm-crypto rejects its own signature');
    out.push(`${file} ${key.pem} ${sig}`);
  }
  fs.writeFileSync(path.join(dir, 'signed.txt'), out.join('\n') + '\n');
  console.log(`sm-crypto made ${n} signatures with ${nkeys} keys`);
}

function cmdGbt() {
  // GB/T 32918.5-2017 Annex A (ID 1234567812345678, message "message digest")
  const d = '3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8';
  const pub = '0409F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020' +
              'CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13';
  const k = '59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21';
  const rs = 'F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3' +
             'B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA';
  const msg = 'message digest';
  if (sm2.getPublicKeyFromPrivateKey(d.toLowerCase()).toLowerCase() !== pub.toLowerCase()) die('sm-crypto: GB/T d does not give the GB/T public key');
  if (!sm2.doVerifySignature(msg, rs.toLowerCase(), pub.toLowerCase(), { hash: true, userId: ID })) die('sm-crypto rejects the GB/T example signature');
  // with the standard's k, sm-crypto's signature is the standard's (r, s)
  const kMinus1 = new BigInteger(k, 16).subtract(BigInteger.ONE).toString(16);
  const kp = sm2.generateKeyPairHex(kMinus1, 16); // generateKeyPairHex adds 1
  const point = { k: new BigInteger(kp.privateKey, 16), x1: new BigInteger(kp.publicKey.substr(2, 64), 16) };
  const sig = sm2.doSignature(msg, d.toLowerCase(), { hash: true, userId: ID, publicKey: pub.toLowerCase(), pointPool: [point] });
  if (sig.toLowerCase() !== rs.toLowerCase()) die(`sm-crypto with the GB/T k gives ${sig}, not the standard's signature`);
  console.log('GB/T 32918.5 example: sm-crypto derives the key, verifies the signature and reproduces it with the fixed k');
}

const [cmd, ...args] = process.argv.slice(2);
switch (cmd) {
  case 'messages': cmdMessages(args[0], Number(args[1])); break;
  case 'sm3': cmdSm3(args[0]); break;
  case 'verify': cmdVerify(args[0]); break;
  case 'sign': cmdSign(args[0], Number(args[1]), Number(args[2])); break;
  case 'gbt': cmdGbt(); break;
  default: die('usage: node sm_crypto_check.js messages|sm3|verify|sign|gbt ...');
}
