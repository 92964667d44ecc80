/** A deploy, undeploy or listing the edge refuses: the client is told why. */
export class CloudRefused extends Error {}
