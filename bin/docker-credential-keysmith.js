#!/usr/bin/env node
// The docker credential helper: `"credsStore": "keysmith"` (docker) or `"credHelpers": {HOST: "keysmith"}`
// (podman, skopeo, buildah) makes the tool run `docker-credential-keysmith store|get|erase|list`,
// which is `keysmith helper docker …`.
process.argv.splice(2, 0, 'helper', 'docker');
await import('./keysmith.js');
