/** TLS alerts (RFC 8446 §6) a peer may end a handshake with, by number, and what they mean to a geoflux client. */
export const ALERTS: Record<number, string> = {
  40: 'handshake_failure',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  48: 'unknown_ca',
  49: 'access_denied',
  70: 'protocol_version',
  80: 'internal_error',
  109: 'missing_extension',
  116: 'certificate_required',
  120: 'no_application_protocol',
};

const CLIENT_CERT_ALERTS = new Set([42, 43, 44, 45, 46, 48, 49]);

export const describeAlert = (alert: number): string => `alert ${alert}${ALERTS[alert] ? ` ${ALERTS[alert]}` : ''}`;

/** What the zipper's refusal of our client certificate, told by this alert, means to us; undefined for other alerts. */
export function clientCertRefused(alert: number): string | undefined {
  if (alert === 116) return `the zipper refused our client certificate: it requires one (cert and key options; ${describeAlert(alert)})`;
  if (CLIENT_CERT_ALERTS.has(alert)) return `the zipper refused our client certificate (${describeAlert(alert)}; its log says why)`;
  return undefined;
}
