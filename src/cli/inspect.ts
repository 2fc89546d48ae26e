import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { formatReference, parseReference } from '../oci/reference.js';
import { type RemoteImage, remoteImage } from '../oci/remote.js';
import { Registries } from '../registry/client.js';
import { registryOptionsFrom } from '../registry/options.js';
import type { GlobalOptions } from './common.js';
import { registryFlags } from './registry-flags.js';

interface InspectArgs extends GlobalOptions {
  image: string;
  json: boolean;
  platform: string;
  registryMirror: string[];
  insecureRegistry: string[];
}

function builder(y: Argv<GlobalOptions>) {
  return registryFlags(
    y
      .positional('image', {
        type: 'string',
        demandOption: true,
        describe: 'Image reference, e.g. r8.im/me/model:tag',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print manifest, config and labels as JSON',
      })
      .option('platform', {
        type: 'string',
        default: 'linux/amd64',
        describe: 'Platform to pick from a multi-platform index',
      }),
  );
}

const MAX_LABEL = 160;

/** Human-readable summary; long label values (OpenAPI schema, cog.yaml) are shortened. */
export function formatInspect(img: RemoteImage): string {
  const c = img.config.config ?? {};
  const lines = [
    `Image:        ${formatReference(img.reference)}`,
    `Digest:       ${img.digest}${img.resolvedDigest !== img.digest ? `  (index ${img.resolvedDigest})` : ''}`,
    `Media type:   ${img.mediaType}`,
    `Platform:     ${[img.config.os, img.config.architecture, img.config.variant].filter(Boolean).join('/')}`,
    `Created:      ${img.config.created ?? '-'}`,
    `Entrypoint:   ${JSON.stringify(c.Entrypoint ?? null)}`,
    `Cmd:          ${JSON.stringify(c.Cmd ?? null)}`,
    `WorkingDir:   ${c.WorkingDir ?? ''}`,
    `ExposedPorts: ${Object.keys(c.ExposedPorts ?? {}).join(', ')}`,
    'Env:',
    ...(c.Env ?? []).map((e) => `  ${e}`),
    `Layers (${img.manifest.layers.length}):`,
    ...img.manifest.layers.map(
      (l, i) => `  ${l.digest}  ${String(l.size).padStart(12)}  ${img.config.rootfs.diff_ids[i] ?? ''}`,
    ),
    'Labels:',
    ...Object.entries(c.Labels ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([k, v]) =>
          `  ${k}=${v.length > MAX_LABEL ? `${v.slice(0, MAX_LABEL)}… (${v.length} chars; --json for all)` : v}`,
      ),
  ];
  return `${lines.join('\n')}\n`;
}

export const inspectCommand: CommandModule<GlobalOptions, InspectArgs> = {
  command: 'inspect <image>',
  describe: 'Show the manifest, config, labels and schema of a pushed image',
  builder: builder as never,
  handler: async (args: ArgumentsCamelCase<InspectArgs>) => {
    const registries = new Registries(registryOptionsFrom(args));
    try {
      const img = await remoteImage(registries, parseReference(args.image), { platform: args.platform });
      if (args.json) {
        process.stdout.write(
          `${JSON.stringify(
            {
              reference: formatReference(img.reference),
              digest: img.digest,
              resolvedDigest: img.resolvedDigest,
              mediaType: img.mediaType,
              manifest: img.manifest,
              config: img.config,
              labels: img.config.config?.Labels ?? {},
            },
            null,
            2,
          )}\n`,
        );
      } else {
        process.stdout.write(formatInspect(img));
      }
    } finally {
      await registries.close();
    }
  },
};
