/**
 * The runtime's own answer, from real Python: src/python/cog/loader.py's load_target() for each
 * ref, in one interpreter for many refs (a process per case would make the table tests slow).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

export const cogPackageDir = join(repoRoot, 'src', 'python');

export type RuntimeTarget =
  | {
      input: Record<string, unknown>;
      output: Record<string, unknown>;
      streaming: boolean;
      async: boolean;
      concurrency: number | null;
    }
  | { error: string };

const SCRIPT = `
import json, os, sys
from cog.loader import load_target
out = []
for ref, train in json.loads(sys.argv[1]):
    try:
        t = load_target(ref, os.getcwd(), train=train)
        out.append({"input": t.input_schema, "output": t.output_schema, "streaming": t.streaming,
                    "async": t.is_async, "concurrency": t.concurrency})
    except Exception as err:
        out.append({"error": "%s: %s" % (type(err).__name__, err)})
sys.stdout.write(json.dumps(out))
`;

export function runtimeTargets(
  projectDir: string,
  refs: Array<{ ref: string; train?: boolean }>,
): RuntimeTarget[] {
  const args = JSON.stringify(refs.map((r) => [r.ref, r.train === true]));
  const stdout = execFileSync('python3', ['-c', SCRIPT, args], {
    cwd: projectDir,
    env: { ...process.env, PYTHONPATH: cogPackageDir, PYTHONDONTWRITEBYTECODE: '1' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(stdout) as RuntimeTarget[];
}
