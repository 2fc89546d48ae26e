import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Writable } from 'node:stream';
import { extension, lookup } from 'mime-types';
import type { CommandModule } from 'yargs';
import { loadConfig } from '../config/load.js';
import { CogtsError } from '../errors.js';
import { startServerForConfig } from '../server/from-config.js';
import { fileOption, type GlobalOptions } from './common.js';

interface PredictOptions extends GlobalOptions {
  file: string;
  input: string[];
  json: boolean;
  output: string;
  python: string;
}

type Props = Record<string, { type?: string; items?: { type?: string } }>;

/** `-i name=value` → a JSON input value typed by the schema; `@path` becomes a data URL. */
export async function parseInputs(pairs: string[], props: Props): Promise<Record<string, unknown>> {
  const input: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new CogtsError('E_INPUT', `-i ${pair}: expected name=value`, {
        hint: 'e.g. -i prompt="a cat" -i image=@cat.png',
      });
    }
    const name = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    const prop = props[name];
    if (!prop) {
      throw new CogtsError('E_INPUT', `-i ${name}: the model has no input named ${name}`, {
        hint: `inputs: ${Object.keys(props).join(', ') || '(none)'}`,
      });
    }
    const isArray = prop.type === 'array';
    const value = await parseScalar(raw, (isArray ? prop.items?.type : prop.type) ?? 'string', name);
    if (isArray) {
      const list = (input[name] as unknown[] | undefined) ?? [];
      list.push(value);
      input[name] = list;
    } else {
      input[name] = value;
    }
  }
  return input;
}

async function parseScalar(raw: string, type: string, name: string): Promise<unknown> {
  if (raw.startsWith('@')) {
    const path = raw.slice(1);
    const data = await readFile(path).catch((err: NodeJS.ErrnoException) => {
      throw new CogtsError(
        'E_INPUT',
        `-i ${name}=@${path}: cannot read the file (${err.code ?? err.message})`,
      );
    });
    return `data:${lookup(path) || 'application/octet-stream'};base64,${data.toString('base64')}`;
  }
  if (type === 'integer' || type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n))
      throw new CogtsError('E_INPUT', `-i ${name}=${raw}: not a number`);
    return n;
  }
  if (type === 'boolean') {
    if (/^(true|1|yes)$/i.test(raw)) return true;
    if (/^(false|0|no)$/i.test(raw)) return false;
    throw new CogtsError('E_INPUT', `-i ${name}=${raw}: expected true or false`);
  }
  return raw;
}

/** Writes data-URL outputs to files (output.ext, output.0.ext, …) and returns the value with paths. */
async function saveFiles(v: unknown, stem: string, written: string[]): Promise<unknown> {
  if (typeof v === 'string' && v.startsWith('data:')) {
    const m = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(v);
    if (!m) return v;
    const ext = extension(m[1] || '') || 'bin';
    const path = `${stem}.${ext}`;
    await writeFile(path, m[2] ? Buffer.from(m[3]!, 'base64') : decodeURIComponent(m[3]!));
    written.push(path);
    return path;
  }
  if (Array.isArray(v)) return Promise.all(v.map((x, i) => saveFiles(x, `${stem}.${i}`, written)));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = await saveFiles(x, `${stem}.${k}`, written);
    return out;
  }
  return v;
}

export const predictCommand: CommandModule<GlobalOptions, PredictOptions> = {
  command: 'predict',
  describe: 'Run one prediction with the local Python and print its output',
  builder: (y) =>
    fileOption(y)
      .option('input', {
        alias: 'i',
        type: 'string',
        array: true,
        default: [] as string[],
        describe: 'name=value input; name=@file sends a file; repeat a name for list inputs',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print the whole prediction response as JSON',
      })
      .option('output', {
        alias: 'o',
        type: 'string',
        default: 'output',
        describe: 'Stem of written output files',
      })
      .option('python', {
        type: 'string',
        default: process.env.COGTS_PYTHON ?? 'python3',
        describe: 'Python that runs the predictor (env COGTS_PYTHON)',
      }) as never,
  handler: async (argv) => {
    const config = await loadConfig(argv.file);
    const quiet = new Writable({ write: (_c, _e, cb) => cb() });
    const server = await startServerForConfig(config, {
      port: 0,
      host: '127.0.0.1',
      python: argv.python,
      logStream: argv.verbose ? process.stderr : quiet,
    });
    try {
      await server.settled();
      const svc = server.service;
      if (svc.basicStatus() !== 'READY') {
        process.stderr.write(svc.setup.logs);
        throw new CogtsError(
          'E_SETUP',
          `the model's setup failed (${basename(config.file)} ${config.predict})`,
          {
            hint: 'its setup() output is printed above',
          },
        );
      }
      const props = ((svc.schema?.input.properties ?? {}) as Props) ?? {};
      const input = await parseInputs(argv.input.map(String), props);
      const res = await fetch(`${server.url}/predictions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input }),
      });
      const body = (await res.json()) as {
        status?: string;
        output?: unknown;
        logs?: string;
        error?: string;
        detail?: { loc: unknown[]; msg: string }[];
      };
      if (res.status === 422 && Array.isArray(body.detail)) {
        const lines = body.detail.map((d) => `${String(d.loc.at(-1))}: ${d.msg}`).join('; ');
        throw new CogtsError('E_INPUT', `invalid input: ${lines}`);
      }
      const written: string[] = [];
      const output = await saveFiles(body.output, argv.output, written);
      if (argv.json) {
        process.stdout.write(JSON.stringify({ ...body, output }, null, 2) + '\n');
      } else {
        if (body.logs) process.stderr.write(body.logs);
        if (body.status === 'succeeded') {
          if (written.length) for (const p of written) process.stdout.write(`Written output to ${p}\n`);
          else
            process.stdout.write(
              (typeof output === 'string' ? output : JSON.stringify(output, null, 2)) + '\n',
            );
        }
      }
      if (body.status !== 'succeeded') {
        throw new CogtsError('E_PREDICTION', `prediction ${body.status}: ${body.error ?? ''}`);
      }
    } finally {
      await server.close({ graceMs: 1000 });
    }
  },
};
