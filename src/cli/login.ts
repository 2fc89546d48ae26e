import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CogtsError } from '../errors.js';
import { DOCKER_HUB } from '../oci/reference.js';
import { RegistryClient } from '../registry/client.js';
import { normaliseAuthKey, saveDockerConfigAuth, staticCredentials } from '../registry/credentials.js';
import { registryOptionsFrom } from '../registry/options.js';
import type { GlobalOptions } from './common.js';
import { registryFlags } from './registry-flags.js';

interface LoginArgs extends GlobalOptions {
  registry?: string;
  username?: string;
  password?: string;
  passwordStdin: boolean;
  registryMirror: string[];
  insecureRegistry: string[];
}

function builder(y: Argv<GlobalOptions>) {
  return registryFlags(
    y
      .positional('registry', { type: 'string', describe: 'Registry host (default docker.io)' })
      .option('username', { alias: 'u', type: 'string', describe: 'User name' })
      .option('password', {
        alias: 'p',
        type: 'string',
        describe: 'Password or token (prefer --password-stdin)',
      })
      .option('password-stdin', {
        type: 'boolean',
        default: false,
        describe: 'Read the password from stdin',
      }),
  );
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export const loginCommand: CommandModule<GlobalOptions, LoginArgs> = {
  command: 'login [registry]',
  describe: 'Store registry credentials in the Docker config',
  builder: builder as never,
  handler: async (args: ArgumentsCamelCase<LoginArgs>) => {
    const registry = args.registry ? normaliseAuthKey(args.registry) : DOCKER_HUB;
    if (!args.username)
      throw new CogtsError('E_USAGE', 'cogts login needs a user name', { hint: 'pass -u USER' });
    if (args.password !== undefined && args.passwordStdin) {
      throw new CogtsError('E_USAGE', '--password and --password-stdin cannot be used together');
    }
    const password = args.passwordStdin ? await readStdin() : args.password;
    if (!password) {
      throw new CogtsError('E_USAGE', 'cogts login needs a password', {
        hint: 'echo "$TOKEN" | cogts login REGISTRY -u USER --password-stdin',
      });
    }
    const creds = { username: args.username, password };
    const client = new RegistryClient(registry, {
      ...registryOptionsFrom(args),
      credentials: staticCredentials({ [registry]: creds }),
    });
    try {
      await client.verifyCredentials();
    } finally {
      await client.close();
    }
    const path = await saveDockerConfigAuth(registry, creds);
    process.stdout.write(`Login succeeded: ${registry} (credentials saved in ${path})\n`);
  },
};
