// Protobuf's JSON mapping as registry/protobuf.ts writes and reads it, checked against Google's own protoc (Debian's
// protobuf-compiler): protoc decodes what the service encodes (--decode prints the message in text format), and
// encodes text-format messages for the service to read. No broker or registry: only the encoding.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { protobufCodec } from '../../registry/protobuf'

const SCHEMA = `syntax = "proto3";
package kosha.mapping;
import "google/protobuf/duration.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

message Everything {
  int64 big = 1;
  uint64 huge = 2;
  sint32 small = 3;
  float ratio = 4;
  double exact = 5;
  bytes blob = 6;
  map<int64, string> by_id = 7;
  map<bool, string> by_flag = 8;
  google.protobuf.Timestamp at = 9;
  google.protobuf.Duration took = 10;
  google.protobuf.Struct extra = 11;
  google.protobuf.Int64Value maybe = 12;
  oneof choice { string name = 13; int32 number = 14; }
  Kind kind = 15;
}
enum Kind { PLAIN = 0; SPECIAL = 1; }
`

const dir = mkdtempSync(path.join(tmpdir(), 'kosha-protobuf-test-'))
t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
writeFileSync(path.join(dir, 'everything.proto'), SCHEMA)
const protoc = (args: string[], input: Buffer | string): Buffer => execFileSync('protoc', [`-I${dir}`, '-I/usr/include', ...args, 'everything.proto'], { cwd: dir, input })
const codec = protobufCodec(SCHEMA, 'the schema')

t.test('what the service writes, protoc reads field for field; read back it is the same JSON', async (t) => {
  const value = {
    big: '-9007199254740993',
    huge: '18446744073709551615',
    small: -7,
    ratio: 0.1,
    exact: 'Infinity',
    blob: 'AP8=',
    byId: { '-3': 'minus three', '9007199254740993': 'past 2^53' },
    by_flag: { true: 'yes', false: 'no' },
    at: '2026-12-02T10:00:00.123456Z',
    took: '-1.5s',
    extra: { list: [1, 'two', null, { deep: true }] },
    maybe: '42',
    number: 5,
    kind: 'SPECIAL'
  }
  const written = codec.write(value, 'value')
  t.equal(written[0], 0, 'message indexes [0]: the first message')
  const text = protoc(['--decode=kosha.mapping.Everything'], written.subarray(1)).toString()
  for (const line of [
    'big: -9007199254740993', 'huge: 18446744073709551615', 'small: -7', 'ratio: 0.1', 'exact: inf', 'blob: "\\000\\377"',
    'key: -3', 'value: "minus three"', 'key: 9007199254740993', 'key: true', 'value: "yes"', 'key: false', 'value: "no"',
    'seconds: 1796205600', 'nanos: 123456000', 'seconds: -1', 'nanos: -500000000', 'string_value: "two"',
    'null_value: NULL_VALUE', 'bool_value: true', 'value: 42', 'number: 5', 'kind: SPECIAL'
  ]) t.ok(text.includes(line), `protoc reads ${line}`)
  const { byId, ...same } = value
  t.same(JSON.parse(codec.read(written)), {
    ...same,
    by_id: byId,
    took: '-1.500s'
  }, 'read back: .proto names, 64-bit integers as text, the float as written, the well-known types in their JSON forms')
})

t.test('what protoc writes, the service reads; fields not on the wire are given their defaults', async (t) => {
  const bytes = protoc(['--encode=kosha.mapping.Everything'], 'big: 1 by_flag { key: false value: "off" } name: "n"\n')
  t.same(JSON.parse(codec.read(Buffer.concat([Buffer.of(0), bytes]))), {
    big: '1', huge: '0', small: 0, ratio: 0, exact: 0, blob: '', by_id: {}, by_flag: { false: 'off' }, name: 'n', kind: 'PLAIN'
  }, 'defaults included, unset messages and the unset oneof member left out')
})

t.test('refusals name the field and say why', async (t) => {
  const refused = (value: unknown): string => {
    try { codec.write(value, 'value') } catch (err) { return (err as Error).message }
    return 'not refused'
  }
  t.match(refused({ nope: 1 }), /at field 'nope': message Everything has no such field/)
  t.match(refused({ constructor: 1 }), /at field 'constructor': message Everything has no such field/, 'an object\'s own keys only')
  t.match(refused(JSON.parse('{"__proto__": {"big": "1"}}')), /at field '__proto__': message Everything has no such field/)
  t.match(refused({ name: 'a', number: 1 }), /at field 'number': 'name' of the same oneof choice is set already/)
  t.match(refused({ small: 2 ** 31 }), /at field 'small': 2147483648 is out of range for sint32/)
  t.match(refused({ huge: '-1' }), /at field 'huge': -1 is out of range for uint64/)
  t.match(refused({ by_flag: { maybe: 'x' } }), /a map key of type bool is true or false, not 'maybe'/)
  t.match(refused({ by_id: { x: 'y' } }), /at field 'by_id\.x': expected an integer \(int64\)/)
  t.match(refused({ at: '2026-12-02 10:00' }), /at field 'at': expected an RFC 3339 timestamp/)
  t.match(refused({ took: '400000000000s' }), /at field 'took': expected a duration in seconds within ±10,000 years/)
  t.match(refused({ blob: 'not base64!' }), /at field 'blob': expected base64 text/)
  t.match(refused({ kind: 'ODD' }), /expected a value of enum Kind \(PLAIN, SPECIAL\), got "ODD"/)
  t.match(refused([1]), /does not match its Protobuf schema: expected an object \(message Everything\)/)
})

t.test('a payload that is not the message, or names a message the file lacks, is refused, not misread', async (t) => {
  t.throws(() => codec.read(Buffer.from([2, 8])), /message indexes \[4\] name no message of the schema/)
  t.throws(() => codec.read(Buffer.from([0, 0x0a, 0x05, 0x01])), 'a message cut short')
})
