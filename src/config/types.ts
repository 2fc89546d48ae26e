/**
 * The validated cog.yaml as a typed object. Nothing downstream re-reads YAML: the loader
 * (src/config/load.ts) normalises every accepted spelling into this shape.
 */
export interface RunCommand {
  command: string;
  mounts?: { type: 'secret'; id: string; target: string }[];
}

/** One `weights:` entry (Cog's managed weights), as written. */
export interface WeightConfig {
  name: string;
  /** Absolute path in the image where the weights appear. */
  target: string;
  /** Always a list (a single source object is wrapped). */
  source: { uri: string; include?: string[]; exclude?: string[] }[];
}

export interface BuildConfig {
  gpu: boolean;
  /** "3.11" or "3.11.7" as written; undefined means "pick a default". */
  pythonVersion?: string;
  /** `python_packages` entries (older form), e.g. "torch==2.1.0". */
  pythonPackages: string[];
  /** Path of requirements.txt relative to the project dir, as written. */
  pythonRequirements?: string;
  systemPackages: string[];
  cuda?: string;
  cudnn?: string;
  run: RunCommand[];
  preInstall: string[];
  sdkVersion?: string;
}

export interface Config {
  /** Absolute path of the cog.yaml that was loaded. */
  file: string;
  /** Absolute path of the project directory (cog.yaml's folder). */
  projectDir: string;
  build: BuildConfig;
  /** "predict.py:Predictor" — from `predict:` or its newer name `run:`. */
  predict?: string;
  train?: string;
  image?: string;
  /** `model:` — repository for the image and weights (newer Cog), kept for labels and push. */
  model?: string;
  concurrency?: { max: number; defaultTarget?: number };
  /** `environment:` entries as [name, value] pairs, in file order. */
  environment: [string, string][];
  weights?: WeightConfig[];
  /** The document as parsed (for the `run.cog.config` label); an unquoted python_version keeps its spelling. */
  raw: Record<string, unknown>;
}
