import type { Command } from 'commander';
import { FailedError, KeysmithError } from '../../../errors.js';
import { eraseRegistryCredential, getRegistryCredential, listRegistryCredentials, storeRegistryCredential } from '../../../helpers/docker-credential.js';
import { readAll } from '../../io.js';
import type { ContextFor } from '../../context.js';

export default function dockerHelperCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<action>', 'store, get, erase, list or version (the tool says which)')
    .addHelpText('after', `
The docker credential-helper protocol, for docker, podman, skopeo and buildah: store reads
{"ServerURL","Username","Secret"} on stdin; get and erase read a server URL; get prints
{"ServerURL","Username","Secret"}; list prints {"<server URL>": "<username>"}. A registry keysmith
has nothing for is "credentials not found in native keychain" and exit 1, as the protocol says.
Each registry is the record registry/<host> (kind registry-credential). Errors are also printed on
stdout, where the tools look for them. It never prompts.

Set up (the bin docker-credential-keysmith comes with keysmith):
  ~/.docker/config.json:             { "credsStore": "keysmith" }
  containers' auth.json (podman, skopeo, buildah):  { "credHelpers": { "registry.example.com": "keysmith" } }`)
    .action(async (action: string, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      if (action === 'version') return ctx.out('docker-credential-keysmith (keysmith)\n');
      if (!['store', 'get', 'erase', 'list'].includes(action)) {
        await ctx.out(`unknown credential action ${JSON.stringify(action)}\n`);
        throw new FailedError(`unknown credential action ${JSON.stringify(action)}`, undefined, 'ERR_REGISTRY_ACTION');
      }
      try {
        const input = action === 'list' ? '' : (await readAll(ctx.io.stdin)).toString('utf8');
        const { vault } = await ctx.openVault();
        if (action === 'store') await storeRegistryCredential(vault, input, ctx.now());
        else if (action === 'erase') await eraseRegistryCredential(vault, input);
        else await ctx.out(`${JSON.stringify(action === 'get' ? await getRegistryCredential(vault, input) : await listRegistryCredentials(vault))}\n`);
      } catch (err) {
        // The tools read a helper's error from its stdout (docker-credential-helpers' client);
        // "not found" is exit 1 there, as every error of that protocol.
        await ctx.out(`${(err as Error).message}\n`);
        if (err instanceof KeysmithError && err.kind === 'not-found') throw new FailedError(err.message, { cause: err }, err.code);
        throw err;
      }
    });
}
