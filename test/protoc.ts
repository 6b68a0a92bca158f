// Protobuf for the tests from an implementation independent of the service's (protobufjs): Google's protoc (Debian's
// protobuf-compiler, installed by scripts/setup) parses a .proto text, and Confluent's JavaScript serdes
// (@confluentinc/schemaregistry, on @bufbuild/protobuf) encode and decode with what it makes of it.
//
// Confluent's serdes ask the registry for a Protobuf schema as a serialized FileDescriptorProto (?format=serialized);
// Apicurio answers with the .proto text whatever is asked. ProtocRegistryClient is Confluent's client talking to the
// real registry, turning that text into the descriptor with protoc where the serdes ask for one.
import { SchemaRegistryClient, type SchemaInfo, type SchemaMetadata } from '@confluentinc/schemaregistry'
import { create, createFileRegistry, createMutableRegistry, fromBinary, toBinary, type DescMessage, type Message, type MessageInitShape, type MutableRegistry } from '@bufbuild/protobuf'
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorSet } from '@bufbuild/protobuf/wkt'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

/** protoc's FileDescriptorSet of a .proto text, its imports included; the file is named after the text's hash. */
function descriptorSet (text: string): { set: FileDescriptorSet, name: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'kosha-protoc-'))
  const name = `s${createHash('sha256').update(text).digest('hex').slice(0, 16)}.proto`
  try {
    writeFileSync(path.join(dir, name), text)
    execFileSync('protoc', [`-I${dir}`, '-I/usr/include', '--include_imports', '--descriptor_set_out=set.pb', name], { cwd: dir })
    return { set: fromBinary(FileDescriptorSetSchema, readFileSync(path.join(dir, 'set.pb'))), name }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The types of a .proto text, as protoc reads it: Confluent's ProtobufSerializer takes them as its `registry`. */
export function protocTypes (text: string): MutableRegistry {
  return createMutableRegistry(createFileRegistry(descriptorSet(text).set))
}

/** A message of one of those types (what Confluent's ProtobufSerializer writes). */
export function protocMessage (types: MutableRegistry, typeName: string, init: Record<string, unknown>): Message {
  const desc = types.getMessage(typeName)
  if (desc === undefined) throw new Error(`protoc found no message ${typeName}`)
  return create(desc, init as MessageInitShape<DescMessage>)
}

/** The text as the base64 FileDescriptorProto that Confluent's serdes take from a registry. */
function serialized (text: string): string {
  const { set, name } = descriptorSet(text)
  const file = set.file.find((f) => f.name === name)
  if (file === undefined) throw new Error('protoc described no file')
  return Buffer.from(toBinary(FileDescriptorProtoSchema, file)).toString('base64')
}

export class ProtocRegistryClient extends SchemaRegistryClient {
  override async getBySubjectAndId (subject: string, id: number, format?: string): Promise<SchemaInfo> {
    const info = await super.getBySubjectAndId(subject, id)
    return format === 'serialized' && info.schemaType === 'PROTOBUF' ? { ...info, schema: serialized(info.schema) } : info
  }

  override async getLatestSchemaMetadata (subject: string, format?: string): Promise<SchemaMetadata> {
    const info = await super.getLatestSchemaMetadata(subject)
    return format === 'serialized' && info.schemaType === 'PROTOBUF' ? { ...info, schema: serialized(info.schema) } : info
  }
}

/** protoc's text format of a binary message of `typeName`, the .proto files given by name (imports among them). */
export function protocDecode (files: Record<string, string>, main: string, typeName: string, bytes: Buffer): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kosha-protoc-'))
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
      writeFileSync(path.join(dir, name), text)
    }
    return execFileSync('protoc', [`-I${dir}`, '-I/usr/include', `--decode=${typeName}`, main], { cwd: dir, input: bytes }).toString()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
