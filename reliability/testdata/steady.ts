// A function that does its job: one output per fix.
import { map, type Observable } from 'rxjs';
import type { GpsRecord } from '../../index.ts';

export default (in$: Observable<GpsRecord>) => in$.pipe(map((r) => ({ by: 'steady', deviceId: r.deviceId })));
