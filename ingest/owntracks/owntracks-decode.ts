import type { GpsRecord } from '../../codecs/gps-record.ts';
import { jsonMeasure } from '../device-rules.ts';
import { KMH } from '../fix-intake.ts';
import { jsonObject } from '../json-object.ts';

/**
 * OwnTracks' location message (owntracks.org/booklet/tech/json): `{ "_type": "location", lat, lon, tst
 * (unix seconds), acc (m), vel (km/h), cog (degrees) … }`, published to `owntracks/<user>/<device>` over
 * MQTT or POSTed over HTTP. The device is `<user>/<device>` of its topic. Other types (transition,
 * waypoint, lwt, card…) carry no fix and are not read.
 */

export type Decoded = { fix: GpsRecord } | { error: string } | { other: string };

interface Location {
  _type?: unknown;
  lat?: unknown;
  lon?: unknown;
  tst?: unknown;
  acc?: unknown;
  vel?: unknown;
  cog?: unknown;
  topic?: unknown;
}

/** `user/device` of an OwnTracks topic (`owntracks/user/device`, or any prefix before the last two levels) */
export function deviceOfTopic(topic: string): string | undefined {
  const parts = topic.split('/');
  return parts.length >= 3 && parts.at(-1) && parts.at(-2) ? parts.slice(-2).join('/') : undefined;
}

const NO_DEVICE_TOPIC = 'no device: the topic is not owntracks/<user>/<device>';

/** `deviceId` undefined: the message's own `topic` names it, or `noDevice` says what was missing */
export function decodeOwntracks(payload: string, deviceId: string | undefined, noDevice = NO_DEVICE_TOPIC): Decoded {
  const parsed = jsonObject(payload, 'the payload');
  if ('error' in parsed) return parsed;
  const m = parsed.json as Location;
  if (m._type !== 'location') return { other: String(m._type) };
  // over HTTP the message names its topic when the app is set to
  const id = deviceId ?? (typeof m.topic === 'string' ? deviceOfTopic(m.topic) : undefined);
  if (!id) return { error: noDevice };
  if (typeof m.tst !== 'number') return { error: 'a location without tst' };
  if (typeof m.lat !== 'number' || typeof m.lon !== 'number') return { error: 'a location without lat and lon' };
  const fix: GpsRecord = { deviceId: id, t: m.tst * 1000, lon: m.lon, lat: m.lat };
  const [vel, cog, acc] = [m.vel, m.cog, m.acc].map(jsonMeasure);
  if (vel !== undefined) fix.speed = vel * KMH;
  if (cog !== undefined) fix.heading = cog;
  if (acc !== undefined) fix.accuracy = acc;
  return { fix };
}
