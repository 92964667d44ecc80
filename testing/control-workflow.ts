/**
 * The workflow the run-time deploy tests serve (deploy, replace, scale to zero, autoscale): a zipper on a free
 * port with its control channel, the embedded broker on port 0, and the `alerts` of deployed functions sent to
 * MQTT. `control` adds to the control entry (`autoscale: { … }`), `metrics` serves /metrics on a free port,
 * `alertsParams` are the alerts sink's params, and `rest` follows it (more functions, then sources).
 */
export function controlWorkflow(name: string, o: { control?: string; metrics?: boolean; alertsParams?: string; rest?: string } = {}): string {
  return `name: ${name}
listen: [quic://127.0.0.1:0]
auth: { token: source-token }
control: { token: control-token${o.control ? `, ${o.control}` : ''} }
mqtt: { embedded: { port: 0, ws: false } }
${o.metrics ? 'metrics: { port: 0 }\n' : ''}tags: { gps: 16, alerts: 20 }
functions:
  - name: alerts-out
    observe: [alerts]
    sink: mqtt
${o.alertsParams ? `    params: ${o.alertsParams}\n` : ''}${o.rest ?? ''}`;
}
