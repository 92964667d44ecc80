import { RejectedError } from '../client/client.ts';
import { ServeWentAwayError } from '../client/control-client.ts';
import type { ControlRequest } from '../zipper/control.ts';
import type { Parsed } from './args.ts';

/**
 * A control command's failure with what the user can do about it: the zipper's refusal and the client's
 * error say what went wrong, not which flag to change or where to look. Never echoes a token.
 */
export function explainControlFailure(e: unknown, values: Parsed['values'], req?: ControlRequest): never {
  if (e instanceof RejectedError && /bad control token/.test(e.message)) e.message += `; ${tokenHint(values)}`;
  // a change cut off before its answer: the user cannot know whether it happened, so say where to look
  if (e instanceof ServeWentAwayError && (req?.op === 'deploy' || req?.op === 'undeploy')) {
    e.message += `; the ${req.op} of "${req.name}" may or may not have happened — check with \`geoflux functions\``;
  }
  throw e;
}

/** where the refused token came from (the README's commands pass none: a workflow of one's own needs it) */
function tokenHint(values: Parsed['values']): string {
  if (values.token !== undefined) return "the --token given is not the workflow's control.token";
  if (process.env.GEOFLUX_CONTROL_TOKEN) return "$GEOFLUX_CONTROL_TOKEN (sent, as no --token was given) is not the workflow's control.token: pass --token <the workflow's control.token>";
  return "no --token was given, so the demo workflow's default control token was sent: pass --token <the workflow's control.token> (or set GEOFLUX_CONTROL_TOKEN)";
}
