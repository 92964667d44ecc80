/**
 * geoflux: sources and stream functions, as a user's own programs write them.
 *
 *   const source = await connectSource({ name: 'truck-gw-1', zipper: 'quic://127.0.0.1:9000', token, certHash });
 *   source.write('gps', { deviceId: 'truck-7', t: Date.now(), lon: 7.4246, lat: 43.7384 });
 *
 * Other entries: geoflux/operators (RxJS), geoflux/kernels, geoflux/workflow, geoflux/simulators.
 */
export { connectSource } from './source/connect-source.ts';
export type { Source, SourceOptions, SourceStats, SourceCloseReport } from './source/connect-source.ts';
export { writePaced } from './source/write-paced.ts';
export type { SourceContext, SourceModule } from './source/source-module.ts';
export { connectStreamFunction } from './sfn/connect-stream-function.ts';
export type { StreamFunction, StreamFunctionOptions, HandleOptions, Handler, StreamFunctionStats, BatchHandler, BatchHandleOptions } from './sfn/connect-stream-function.ts';
export { startFunctionModule } from './sfn/function-module.ts';
export type { FunctionContext, FunctionModule, FunctionSpecOptions } from './sfn/function-module.ts';
export { RejectedError, TrustError, type ClientOptions } from './client/client.ts';
export { InvalidFixError, MAX_DEVICE_ID_BYTES } from './codecs/fix-checks.ts';
export { RecordTooLargeError } from './client/record-writer.ts';
export type { GpsRecord } from './codecs/gps-record.ts';
export { batchFromRecords, recordsOf, type GpsBatch } from './codecs/gps-batch.ts';
export { logger, setLogLevel, type Logger, type Level } from './log/logger.ts';
export { queryFleet, FleetQueryError, type FleetClient, type FleetAnswer, type NearbyQuery } from './query/query-client.ts';
export type { Vehicle, Hit, Where } from './query/fleet-index.ts';
