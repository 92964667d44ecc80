/** geoflux: the public API. */
export { connectSource } from './source/connect-source.ts';
export type { Source, SourceOptions, SourceStats } from './source/connect-source.ts';
export { connectStreamFunction } from './sfn/connect-stream-function.ts';
export type { StreamFunction, StreamFunctionOptions, HandleOptions, Handler, StreamFunctionStats } from './sfn/connect-stream-function.ts';
export type { GpsRecord } from './codecs/gps-record.ts';
export type { GpsBatch } from './codecs/gps-batch.ts';
