import type { BuildPlan } from '../plan/types.js';
import type { PythonProviderKind } from '../sources/python/index.js';
import { deliver } from './deliver.js';
import { executePlan, formatBytes, registriesFor } from './execute.js';

export interface RunBuildOptions {
  json: boolean;
  pythonProvider?: 'auto' | PythonProviderKind;
  pythonMirror?: string;
  npmRegistry?: string;
}

/**
 * `cogts build` after planning: build, deliver, report. Progress goes to stderr so that stdout
 * carries only the result (the pushed reference, or JSON with --json) for scripts.
 */
export async function runBuild(plan: BuildPlan, opts: RunBuildOptions): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  for (const note of plan.notes) log(`note: ${note}`);
  const registries = registriesFor(plan);
  try {
    const pythonMirror = opts.pythonMirror ?? process.env.COGTS_PYTHON_MIRROR;
    const npmRegistry = opts.npmRegistry ?? process.env.COGTS_NPM_REGISTRY;
    const result = await executePlan(plan, {
      log,
      registries,
      ...(opts.pythonProvider && opts.pythonProvider !== 'auto'
        ? { pythonProvider: opts.pythonProvider }
        : {}),
      ...(pythonMirror ? { pythonMirror } : {}),
      ...(npmRegistry ? { npmRegistry } : {}),
    });
    const delivered = await deliver(result.image, plan.target, registries, log);
    const summary = {
      digest: result.image.digest,
      reference: delivered.pushed?.reference,
      output: delivered.output,
      base: { ref: plan.base.ref, digest: result.base.resolvedDigest },
      python: {
        kind: result.python.kind,
        interpreter: result.python.interpreter,
        version: result.python.version,
      },
      layers: result.layers.map((l) => ({
        id: l.id,
        digest: l.layer.digest,
        diffId: l.layer.diffId,
        size: l.layer.size,
      })),
      upload: delivered.pushed
        ? { bytesUploaded: delivered.pushed.bytesUploaded, bytesSkipped: delivered.pushed.bytesSkipped }
        : undefined,
    };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      return;
    }
    if (delivered.pushed) {
      log(
        `pushed: ${formatBytes(delivered.pushed.bytesUploaded)} uploaded, ${formatBytes(delivered.pushed.bytesSkipped)} already there`,
      );
      process.stdout.write(`${delivered.pushed.reference}\n`);
    } else if (!delivered.output) {
      log('built but not sent anywhere: add --push REF or --output oci:DIR|docker-archive:FILE');
      process.stdout.write(`${result.image.digest}\n`);
    } else {
      process.stdout.write(`${result.image.digest}\n`);
    }
  } finally {
    await registries.close();
  }
}
