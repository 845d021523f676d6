import { alertCodec, type Alert } from '@backbone/codec';
import { sampleFullAlert } from '@backbone/codec/testing';
import { figure, type Figures } from './figures.js';
import { opsPerSecond } from './stats.js';

/** Avro single-object encode/decode of a fully populated alert, against JSON of the same alert. */
export function benchCodec(quick: boolean): Figures {
  const alert: Alert = sampleFullAlert();
  const ms = quick ? 400 : 2000;
  const avroBytes = alertCodec.encode(alert);
  const json = JSON.stringify(alert);

  const jsonEncode = opsPerSecond(() => JSON.stringify(alert), ms);
  const jsonDecode = opsPerSecond(() => JSON.parse(json), ms);
  const avroEncode = opsPerSecond(() => alertCodec.encode(alert), ms);
  const avroDecode = opsPerSecond(() => alertCodec.decode(avroBytes), ms);

  const sizes = `avro ${avroBytes.length} B vs json ${Buffer.byteLength(json)} B`;
  return {
    'codec.avro.encode_per_s': figure(avroEncode, 'records/s', jsonEncode, `ceiling: JSON.stringify; ${sizes}`),
    'codec.avro.decode_per_s': figure(avroDecode, 'records/s', jsonDecode, 'ceiling: JSON.parse'),
    'codec.json.encode_per_s': figure(jsonEncode, 'records/s', jsonEncode, 'the ceiling itself'),
    'codec.json.decode_per_s': figure(jsonDecode, 'records/s', jsonDecode, 'the ceiling itself'),
  };
}

/** The size of the alert every throughput ceiling uses as its record size. */
export function alertRecordSize(): number {
  return alertCodec.encode(sampleFullAlert()).length;
}
