// A control plane's stack for the engine suite (test/engine/pipeline.engine.ts):
// no resources, only the outputs hardway-workers reads through controlPlaneStack
// (components/config/controlPlane.ts), from this stack's config.
const pulumi = require("@pulumi/pulumi");

const config = new pulumi.Config();
module.exports = {
    apiServer: config.require("apiServer"),
    caCertPem: config.require("caCertPem"),
    apiAdminCertPem: config.require("apiAdminCertPem"),
    apiAdminKeyPem: config.requireSecret("apiAdminKeyPem"),
    kubernetesVersion: config.require("kubernetesVersion"),
};
